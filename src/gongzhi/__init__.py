"""gongzhi (共治): grassroots co-governance for villages and urban communities."""

__version__ = "0.1.0"
