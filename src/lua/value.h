/*
 * Lua values copied between two lua_States through a flat byte buffer, so
 * that no state ever touches another (the main state and a worker's run
 * on different threads). Copied: nil, booleans, integers (as integers),
 * floats, strings of any bytes, and tables of these, nested up to
 * VALUE_MAX_DEPTH, with boolean, number or string keys. Tables are copied
 * raw (no metamethods, no metatable); a table reached twice is copied
 * twice; a table inside itself is an error, and so are functions,
 * userdata and threads.
 *
 * The buffer's bytes mean something only to value_unpack in the same
 * program (native byte order and sizes); it is not a wire format.
 */
#ifndef VALUE_H
#define VALUE_H

#include <stddef.h>

#include <lua.h>

#define VALUE_MAX_BYTES	(64 * 1024 * 1024)
#define VALUE_MAX_DEPTH	100

/*
 * A growable byte buffer that owns its data. len never passes max (0 means
 * VALUE_MAX_BYTES): value_pack fails rather than grow past it. Not shared:
 * it moves between threads with the job that carries it.
 */
struct value_buf {
	char	*data;
	size_t	 len;
	size_t	 size;		/* bytes allocated at data */
	size_t	 max;
};

void	value_buf_init(struct value_buf *);
void	value_buf_clear(struct value_buf *);
void	value_buf_free(struct value_buf *);

int	value_pack(lua_State *, int, int, struct value_buf *, char *, size_t);
int	value_unpack(lua_State *, const char *, size_t, char *, size_t);

#endif
