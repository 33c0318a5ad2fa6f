build-asan/node/cmd_sync.o: node/cmd_sync.c node/cli.h node/home.h \
 node/../sharing/replica.h node/../sharing/../proto/codec.h \
 node/../sharing/../proto/../sharing/common.h node/../sharing/sign.h \
 node/../sharing/common.h node/../sharing/state.h node/../sharing/store.h \
 node/log.h node/peer.h node/../proto/codec.h node/serve.h
node/cli.h:
node/home.h:
node/../sharing/replica.h:
node/../sharing/../proto/codec.h:
node/../sharing/../proto/../sharing/common.h:
node/../sharing/sign.h:
node/../sharing/common.h:
node/../sharing/state.h:
node/../sharing/store.h:
node/log.h:
node/peer.h:
node/../proto/codec.h:
node/serve.h:
