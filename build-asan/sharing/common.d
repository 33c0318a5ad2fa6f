build-asan/sharing/common.o: sharing/common.c sharing/common.h
sharing/common.h:
