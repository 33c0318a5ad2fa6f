build-asan/node/home.o: node/home.c node/home.h node/../sharing/replica.h \
 node/../sharing/../proto/codec.h \
 node/../sharing/../proto/../sharing/common.h node/../sharing/sign.h \
 node/../sharing/common.h node/../sharing/state.h node/../sharing/store.h \
 node/../policies/item.h node/../policies/../sharing/common.h
node/home.h:
node/../sharing/replica.h:
node/../sharing/../proto/codec.h:
node/../sharing/../proto/../sharing/common.h:
node/../sharing/sign.h:
node/../sharing/common.h:
node/../sharing/state.h:
node/../sharing/store.h:
node/../policies/item.h:
node/../policies/../sharing/common.h:
