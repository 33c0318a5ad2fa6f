build-asan/node/cmd_content.o: node/cmd_content.c \
 node/../policies/frontmatter.h node/../policies/../sharing/common.h \
 node/../policies/item.h node/cli.h node/home.h node/../sharing/replica.h \
 node/../sharing/../proto/codec.h \
 node/../sharing/../proto/../sharing/common.h node/../sharing/sign.h \
 node/../sharing/common.h node/../sharing/state.h node/../sharing/store.h \
 node/serve.h
node/../policies/frontmatter.h:
node/../policies/../sharing/common.h:
node/../policies/item.h:
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
