build-asan/proto/codec.o: proto/codec.c proto/codec.h \
 proto/../sharing/common.h build-asan/proto/kairan.pb-c.h
proto/codec.h:
proto/../sharing/common.h:
build-asan/proto/kairan.pb-c.h:
