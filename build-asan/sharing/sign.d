build-asan/sharing/sign.o: sharing/sign.c sharing/sign.h sharing/common.h
sharing/sign.h:
sharing/common.h:
