"""dlgrade: an autograder and assignment kit for a hands-on deep-learning course."""
