"""SMS gateway backends: console (default), locmem (tests), aliyun, tencent."""
