"""One small interface per stage; implementations live in the sub-packages."""
