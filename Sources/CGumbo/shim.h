// Google's gumbo (Debian libgumbo-dev): an HTML5 parser in C that follows the WHATWG
// tree-construction algorithm. The parse stage builds its PageTree from gumbo's output.
#include <gumbo.h>
