build-asan/policies/item.o: policies/item.c policies/item.h \
 policies/../sharing/common.h policies/frontmatter.h
policies/item.h:
policies/../sharing/common.h:
policies/frontmatter.h:
