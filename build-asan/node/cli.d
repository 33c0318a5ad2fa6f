build-asan/node/cli.o: node/cli.c node/cli.h node/home.h \
 node/../sharing/replica.h node/../sharing/../proto/codec.h \
 node/../sharing/../proto/../sharing/common.h node/../sharing/sign.h \
 node/../sharing/common.h node/../sharing/state.h node/../sharing/store.h \
 node/serve.h
node/cli.h:
node/home.h:
node/../sharing/replica.h:
node/../sharing/../proto/codec.h:
node/../sharing/../proto/../sharing/common.h:
node/../sharing/sign.h:
node/../sharing/common.h:
node/../sharing/state.h:
node/../sharing/store.h:
node/serve.h:
