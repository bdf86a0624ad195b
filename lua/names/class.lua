--- A tiny class system for exception classes (internal).
--
-- Mirrors what the library needs from Python's exception hierarchy:
--
--    local class = require "names.class"
--    local DomainError = class("names.error.DomainError", class.ValueError)
--    local e = DomainError("example.com")
--    e.args[1]                              --> "example.com"
--    class.isinstance(e, class.Exception)   --> true
--    tostring(e)                            --> "DomainError: example.com"
--
-- A class is a table that is also the metatable of its instances. Calling it
-- builds an instance `{args = table.pack(...)}`, then runs the `init` hook
-- (`Cls.init(self, ...)`) if the class or an ancestor defines one. Fields and
-- methods are inherited through `__index`.
--
-- Text forms, following Python:
--
-- * `class.str(e)` is Python's `str(e)`: `""` with no argument, the argument
--   itself (strings unquoted) with one, the tuple of reprs with several.
--   A class may override it by defining a `__str(self)` method.
-- * `tostring(e)` is the last line of a Python traceback: `Name: message`,
--   or just `Name` when the message is empty. Override with `__tostring`.
-- * `repr.value(e)` (the `__repr` metamethod) is Python's repr:
--   `Name('a', 1)`.
-- * `tostring(Cls)` is `<class 'names.error.DomainError'>`.
--
-- Metamethods (`__tostring`, `__repr`, ...) are copied from the parent when a
-- subclass is created, so override them on a class before subclassing it
-- (`__str` is an ordinary method, inherited at any time).
-- @module names.class

local argcheck = require "names.argcheck"
local repr = require "names.repr"

local M = {}

local isclass = setmetatable({}, { __mode = "k" })

local pack = table.pack

--- Python's str() of an exception: the message part.
-- @param e an instance
-- @treturn string
function M.str(e)
  return e:__str()
end

local function defaultStr(self)
  local args = self.args
  local n = args and args.n or 0
  if n == 0 then
    return ""
  elseif n == 1 then
    return repr.str(args[1])
  end
  return repr.tuple(args)
end

local function defaultTostring(self)
  local msg = self:__str()
  local name = getmetatable(self).__name
  if msg == "" then
    return name
  end
  return name .. ": " .. msg
end

local function defaultRepr(self)
  local args = self.args or { n = 0 }
  local parts = {}
  for i = 1, args.n or #args do
    parts[i] = repr.value(args[i])
  end
  return getmetatable(self).__name .. "(" .. table.concat(parts, ", ") .. ")"
end

local function construct(cls, ...)
  local self = setmetatable({ args = pack(...) }, cls)
  local init = cls.init
  if init then
    init(self, ...)
  end
  return self
end

local function classTostring(cls)
  return "<class '" .. M.qual(cls) .. "'>"
end

local classMeta = {}

-- Keys that belong to each class itself, or that are ordinary methods
-- inherited through __index, and are not copied to a subclass.
local OWN = { __index = true, __name = true, __module = true, __base = true, __str = true }

--- Create a class.
-- @tparam string name `"Name"` or a qualified `"module.path.Name"`
-- @tparam[opt] table parent the parent class (default `class.Exception`)
-- @treturn table the class
function M.new(name, parent)
  argcheck.check(1, "class", name, "string")
  if parent ~= nil and not isclass[parent] then
    argcheck.error(2, "class", "class expected")
  end
  local module, short = name:match("^(.*)%.([^.]+)$")
  local cls = {}
  if parent then
    for k, v in pairs(parent) do
      if type(k) == "string" and k:sub(1, 2) == "__" and not OWN[k] then
        cls[k] = v
      end
    end
  else
    cls.__str = defaultStr
    cls.__tostring = defaultTostring
    cls.__repr = defaultRepr
  end
  cls.__index = cls
  cls.__name = short or name
  cls.__module = module or false
  cls.__base = parent
  isclass[cls] = true
  return setmetatable(cls, {
    __index = parent,
    __call = construct,
    __tostring = classTostring,
    __metatable = classMeta,
  })
end

--- The fully qualified name of a class, `"names.error.DNSNameError"`.
-- @tparam table cls
-- @treturn string
function M.qual(cls)
  local module = rawget(cls, "__module")
  if module then
    return module .. "." .. cls.__name
  end
  return cls.__name
end

--- Whether a value is a class made by this module.
-- @param v
-- @treturn boolean
function M.isclass(v)
  return isclass[v] == true
end

--- Whether class `a` is `b` or derives from it.
-- @tparam table a
-- @tparam table b
-- @treturn boolean
function M.issubclass(a, b)
  while a do
    if a == b then
      return true
    end
    a = rawget(a, "__base")
  end
  return false
end

--- Whether `v` can be called: a function, or a value whose metatable has
-- `__call` (what the modules take wherever they take a callback).
-- @param v
-- @treturn boolean
function M.iscallable(v)
  if type(v) == "function" then
    return true
  end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

--- The class of an instance, or nil for anything else.
-- @param v
-- @treturn table|nil
function M.classof(v)
  if type(v) ~= "table" then
    return nil
  end
  local mt = getmetatable(v)
  if isclass[mt] then
    return mt
  end
  return nil
end

--- Whether `v` is an instance of `cls` or of a subclass (false for
-- anything that is not an instance).
-- @param v
-- @tparam table cls
-- @treturn boolean
function M.isinstance(v, cls)
  local c = M.classof(v)
  return c ~= nil and M.issubclass(c, cls)
end

--- The root class, Python's `Exception`.
M.Exception = M.new("Exception")
--- Python's `ValueError`.
M.ValueError = M.new("ValueError", M.Exception)
--- Python's `TypeError`.
M.TypeError = M.new("TypeError", M.Exception)
--- Python's `NotImplementedError`: a resolver that does not answer a type.
M.NotImplementedError = M.new("NotImplementedError", M.Exception)

return setmetatable(M, {
  __call = function(_, name, parent)
    return M.new(name, parent or M.Exception)
  end,
})
