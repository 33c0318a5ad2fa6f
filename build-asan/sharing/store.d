build-asan/sharing/store.o: sharing/store.c sharing/store.h \
 sharing/common.h sharing/sign.h
sharing/store.h:
sharing/common.h:
sharing/sign.h:
