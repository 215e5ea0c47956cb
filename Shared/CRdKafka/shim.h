// librdkafka's C API, compiled against Debian's header (librdkafka-dev) and linked against librdkafka 2.16
// (installed by scripts/bootstrap). No pkgConfig: it would make the linker pick Debian's 2.0.2.
#include <librdkafka/rdkafka.h>
