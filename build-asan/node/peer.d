build-asan/node/peer.o: node/peer.c node/peer.h node/../proto/codec.h \
 node/../proto/../sharing/common.h node/home.h node/../sharing/replica.h \
 node/../sharing/../proto/codec.h node/../sharing/sign.h \
 node/../sharing/common.h node/../sharing/state.h node/../sharing/store.h \
 node/../sharing/manifest.h node/log.h
node/peer.h:
node/../proto/codec.h:
node/../proto/../sharing/common.h:
node/home.h:
node/../sharing/replica.h:
node/../sharing/../proto/codec.h:
node/../sharing/sign.h:
node/../sharing/common.h:
node/../sharing/state.h:
node/../sharing/store.h:
node/../sharing/manifest.h:
node/log.h:
