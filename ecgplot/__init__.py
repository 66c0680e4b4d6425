"""ecgplot: classify 12-lead ECGs from rendered plot images (AIWIN ECG challenge)."""

__version__ = "0.1.0"
