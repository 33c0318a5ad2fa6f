build-asan/sharing/state.o: sharing/state.c sharing/state.h \
 sharing/common.h
sharing/state.h:
sharing/common.h:
