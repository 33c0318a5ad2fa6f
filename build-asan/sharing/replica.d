build-asan/sharing/replica.o: sharing/replica.c sharing/replica.h \
 sharing/../proto/codec.h sharing/../proto/../sharing/common.h \
 sharing/sign.h sharing/common.h sharing/state.h sharing/store.h \
 sharing/../policies/item.h sharing/../policies/../sharing/common.h \
 sharing/manifest.h
sharing/replica.h:
sharing/../proto/codec.h:
sharing/../proto/../sharing/common.h:
sharing/sign.h:
sharing/common.h:
sharing/state.h:
sharing/store.h:
sharing/../policies/item.h:
sharing/../policies/../sharing/common.h:
sharing/manifest.h:
