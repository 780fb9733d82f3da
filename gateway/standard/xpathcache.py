"""libxml2's XPath object cache for a compiled ``etree.XPath``, which lxml never switches on.

Every ``etree.XPath`` owns one libxml2 ``xmlXPathContext`` for its lifetime (lxml creates it in the
constructor and reuses it for every call, under the object's own lock). libxml2 can keep the node sets,
strings, numbers and booleans an evaluation frees in a cache on that context and hand them to the next
step instead of ``malloc``/``free`` (``xmlXPathContextSetCache``, what libxslt does for its contexts); lxml
does not call it and does not expose the context. :func:`enable` finds the context pointer in the XPath
object's C struct and switches the cache on through the function lxml's own extension module exports.
The cache changes no result: it only recycles the objects the evaluator allocates.

The struct is lxml's ``_XPathEvaluatorBase`` (``PyObject_HEAD``, the Cython vtable, then
``xmlXPathContext* _xpathCtxt``, then ``_XPathContext _context``), stable since lxml 2; :func:`enable` only
reads inside the objects themselves and only switches the cache on when what it reads proves the layout: the
field after the pointer is the address of the XPath's one ``_XPathContext`` (found through the garbage
collector's list of what the object refers to), and that object's own first field
(``_BaseContext._xpathCtxt``, after its vtable) holds the same pointer. Anything else (another
Python implementation, another lxml layout, a build that does not export the function) leaves the XPath as
it is and returns False: slower, never different.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable
from typing import Final, cast

from lxml import etree

_WORD: Final = ctypes.sizeof(ctypes.c_void_p)
_HEAD: Final = 2 * _WORD  # PyObject_HEAD: the reference count and the type
_CTXT: Final = _HEAD + _WORD  # after the Cython vtable pointer
_CONTEXT: Final = _CTXT + _WORD


def _set_cache() -> Callable[[int, int, int, int], int] | None:
    if sys.implementation.name != "cpython" or etree.XPath.__basicsize__ < _CONTEXT + _WORD:
        return None
    try:
        function = ctypes.CDLL(etree.__file__).xmlXPathContextSetCache
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], function)


_SET_CACHE: Final = _set_cache()


def _pointer(address: int) -> int | None:
    return ctypes.c_void_p.from_address(address).value


def enable(xpath: etree.XPath) -> bool:
    """Switch libxml2's XPath object cache on for this compiled XPath; True when it is on."""
    if _SET_CACHE is None or type(xpath) is not etree.XPath:
        return False
    # the objects the XPath refers to (its traverse slot): one of them is its _XPathContext
    helpers = [o for o in gc.get_referents(xpath) if type(o).__name__ == "_XPathContext"]
    if len(helpers) != 1 or type(helpers[0]).__basicsize__ < _CTXT + _WORD:
        return False
    base, helper = id(xpath), id(helpers[0])  # CPython: the objects' addresses; every read is inside them
    ctxt = _pointer(base + _CTXT)
    if ctxt is None or _pointer(base + _CONTEXT) != helper or _pointer(helper + _CTXT) != ctxt:
        return False
    return _SET_CACHE(ctxt, 1, -1, 0) == 0
