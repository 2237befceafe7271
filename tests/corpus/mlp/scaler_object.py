"""A scikit-learn-style scaler object: fit on the training set, then
transform each set with the statistics it keeps."""
import numpy as np

BUG = ("standardize", "return scaler.transform(x_train), scaler.transform(x_test)",
       "return scaler.transform(x_train), Scaler().fit(x_test).transform(x_test)")


class Scaler:
    def fit(self, x):
        self.mean_ = x.sum(axis=0) / len(x)
        self.scale_ = np.sqrt(((x - self.mean_) ** 2).sum(axis=0) / len(x))
        return self

    def transform(self, x):
        return (x - self.mean_) / self.scale_


def standardize(x_train, x_test):
    scaler = Scaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test)
