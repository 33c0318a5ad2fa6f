build-asan/node/log.o: node/log.c node/log.h
node/log.h:
