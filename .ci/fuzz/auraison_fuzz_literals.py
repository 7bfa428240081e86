"""Literals for the OpenAPI fuzzer (test/central/api/fuzz.node.test.ts) to try.

Hypothesis seeds the strings and numbers it draws with the literals of the modules it takes for
the project's own; this file is loaded as schemathesis' hooks module so that these are among
them. They are the names and numbers a JavaScript server mishandles when it takes them from a
request: an object's inherited members (a lookup by a name from outside finds them, an
assignment to __proto__ replaces a prototype) and integers past what a double or a 32-bit
column keeps. The file must stay outside any directory named test or tests (Hypothesis skips
those), which is why it lives here and not beside the test.
"""

NAMES = (
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "__defineGetter__",
    "__lookupGetter__",
    "then",
)

PATHS = ("..", "../", "/", "%2e%2e", "a/../b")

NUMBERS = (2147483647, 2147483648, 4294967296, 9007199254740991, 9007199254740993, -1)
