-- names.class: the tiny class system behind the exception classes.
local class = require "names.class"
local repr = require "names.repr"

describe("names.class", function()
  local Base, Child

  before_each(function()
    Base = class("spec.Base")
    Child = class("spec.more.Child", Base)
  end)

  it("builds instances that keep their arguments, nils included", function()
    local e = Base("a", nil, 3)
    assert.are.equal(3, e.args.n)
    assert.are.same({ "a", nil, 3, n = 3 }, e.args)
  end)

  it("gives classes a short __name and a qualified name", function()
    assert.are.equal("Child", Child.__name)
    assert.are.equal("spec.more.Child", class.qual(Child))
    assert.are.equal("Exception", class.qual(class.Exception))
    assert.are.equal("<class 'spec.more.Child'>", tostring(Child))
  end)

  it("inherits fields and methods through the parents", function()
    function Base:hello() return "hello " .. self.args[1] end
    Base.kind = "base"
    local e = Child("x")
    assert.are.equal("hello x", e:hello())
    assert.are.equal("base", e.kind)
  end)

  it("runs the init hook, inherited by subclasses", function()
    function Base:init(a, b) self.sum = a + b end
    assert.are.equal(5, Child(2, 3).sum)
  end)

  it("answers isinstance through the parents and false for other values", function()
    local c = Child()
    assert.is_true(class.isinstance(c, Child))
    assert.is_true(class.isinstance(c, Base))
    assert.is_true(class.isinstance(c, class.Exception))
    assert.is_false(class.isinstance(Base(), Child))
    assert.is_false(class.isinstance("Child", Child))
    assert.is_false(class.isinstance({}, Base))
    assert.is_false(class.isinstance(nil, Base))
    assert.is_false(class.isinstance(Child, Child))
  end)

  it("tells classes from other tables", function()
    assert.is_true(class.isclass(Child))
    assert.is_false(class.isclass({}))
    assert.are.equal(Child, class.classof(Child()))
    assert.is_nil(class.classof({}))
  end)

  it("prints instances as Name: message, or Name alone without a message", function()
    assert.are.equal("Child: boom", tostring(Child("boom")))
    assert.are.equal("Child", tostring(Child()))
    assert.are.equal("Child: ('a', 1)", tostring(Child("a", 1)))
  end)

  it("gives Python's str() of the instance with class.str", function()
    assert.are.equal("boom", class.str(Child("boom")))
    assert.are.equal("", class.str(Child()))
    assert.are.equal("5", class.str(Child(5)))
    assert.are.equal("('a', None)", class.str(Child("a", nil)))
  end)

  it("gives Python's repr() of the instance with repr.value", function()
    assert.are.equal("Child('boom')", repr.value(Child("boom")))
    assert.are.equal("Child()", repr.value(Child()))
    assert.are.equal("Child('a', 1)", repr.value(Child("a", 1)))
  end)

  it("lets a class override __str, and subclasses inherit it", function()
    Base.__str = function() return "custom" end
    assert.are.equal("Base: custom", tostring(Base(1)))
    assert.are.equal("Child: custom", tostring(Child(1)))
  end)

  it("lets a class override __tostring before it is subclassed", function()
    Base.__tostring = function() return "overridden" end
    local Sub = class("spec.Sub", Base)
    assert.are.equal("overridden", tostring(Base()))
    assert.are.equal("overridden", tostring(Sub()))
  end)

  it("can be raised and caught with pcall", function()
    local ok, e = pcall(error, Child("x"))
    assert.is_false(ok)
    assert.is_true(class.isinstance(e, Base))
  end)

  it("rejects a parent that is not a class", function()
    assert.has_error(function() class("X", {}) end,
      "bad argument #2 to 'class' (class expected)")
  end)

  it("has ValueError and TypeError under Exception", function()
    assert.is_true(class.issubclass(class.ValueError, class.Exception))
    assert.is_true(class.issubclass(class.TypeError, class.Exception))
    assert.is_false(class.issubclass(class.ValueError, class.TypeError))
  end)
end)
