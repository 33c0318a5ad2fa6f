build-asan/policies/frontmatter.o: policies/frontmatter.c \
 policies/frontmatter.h policies/../sharing/common.h
policies/frontmatter.h:
policies/../sharing/common.h:
