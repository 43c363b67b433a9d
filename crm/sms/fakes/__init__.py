"""Local fakes of the Aliyun and Tencent SMS protocols, for tests and development."""
