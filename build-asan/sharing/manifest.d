build-asan/sharing/manifest.o: sharing/manifest.c sharing/manifest.h \
 sharing/../proto/codec.h sharing/../proto/../sharing/common.h \
 sharing/sign.h sharing/common.h
sharing/manifest.h:
sharing/../proto/codec.h:
sharing/../proto/../sharing/common.h:
sharing/sign.h:
sharing/common.h:
