-- SPDX-License-Identifier: Apache-2.0
-- agentlens.yaml: one YAML document decoded by libyaml into Lua values.
local yaml = require "agentlens.yaml"
local json = require "agentlens.json"

describe("agentlens.yaml.decode", function()
  it("decodes nested mappings and sequences, marking sequences as arrays", function()
    local v = assert(yaml.decode([[
# a comment
outer:
  inner:
    list:
    - a
    - b: 1
      c: [x, "y", 'z']
  empty_map: {}
  empty_list: []
top: value   # trailing comment
]]))
    assert.equal("value", v.top)
    assert.equal("a", v.outer.inner.list[1])
    assert.equal(1, v.outer.inner.list[2].b)
    assert.same({ "x", "y", "z" }, v.outer.inner.list[2].c)
    assert.is_true(json.is_array(v.outer.inner.list))
    assert.is_true(json.is_array(v.outer.inner.list[2].c))
    assert.is_true(json.is_array(v.outer.empty_list))
    assert.is_false(json.is_array(v.outer.empty_map))
    assert.is_nil(next(v.outer.empty_map))
    assert.equal("[]", json.encode(v.outer.empty_list))
    assert.equal('{"b":1,"c":["x","y","z"]}', json.encode(v.outer.inner.list[2]))
  end)

  it("types plain scalars and keeps quoted ones as strings", function()
    local v = assert(yaml.decode([[
n1:
n2: ~
n3: null
t: true
f: False
i: -42
big: 12345678901234567890
float: 1.5
q: "true"
s: '42'
esc: "a\"b\tc\u00e9\/"
lit: |
  line one
  line two
fold: >
  folded
  text
]]))
    assert.equal(json.null, v.n1)
    assert.equal(json.null, v.n2)
    assert.equal(json.null, v.n3)
    assert.is_true(v.t)
    assert.is_false(v.f)
    assert.equal(-42, v.i)
    assert.equal("12345678901234567890", v.big)
    assert.equal("1.5", v.float)
    assert.equal("true", v.q)
    assert.equal("42", v.s)
    assert.equal('a"b\tc\195\169/', v.esc)
    assert.equal("line one\nline two\n", v.lit)
    assert.equal("folded text\n", v.fold)
    assert.equal("plain", yaml.decode("plain"))
    assert.equal(7, yaml.decode("--- 7\n...\n"))
    local list = assert(yaml.decode("- \n- x\n"))
    assert.equal(2, #list)
    assert.equal(json.null, list[1])
  end)

  it("reads JSON, which is YAML", function()
    local v = assert(yaml.decode('{"a": {"b": [1, 2, {"c": null}]}, "d": "e"}'))
    assert.equal(2, v.a.b[2])
    assert.equal(json.null, v.a.b[3].c)
    assert.equal("e", v.d)
  end)

  it("reports syntax errors with line and column", function()
    local v, err = yaml.decode("a: 1\n  b: 2\n")
    assert.is_nil(v)
    assert.equal("line 2 column 4: mapping values are not allowed in this context", err)
    v, err = yaml.decode("a:\n  - x\n  y: [1, 2\n")
    assert.is_nil(v)
    assert.matches("^line %d+ column %d+: ", err)
    v, err = yaml.decode('a: "unterminated\n')
    assert.is_nil(v)
    assert.matches("^line 2 column 1: found unexpected end of stream", err)
  end)

  it("refuses anchors, aliases, tags, duplicate and complex keys, and several documents", function()
    local cases = {
      { "a: &x 1\nb: 2\n", "line 1 column 4: YAML anchors and aliases are not supported" },
      { "a: 1\nb: *x\n", "line 2 column 4: YAML anchors and aliases are not supported" },
      { "a: !!str 1\n", "line 1 column 4: YAML tags are not supported" },
      { "a: 1\nb: 2\na: 3\n", "line 3 column 1: duplicate key a" },
      { "? [a, b]\n: c\n", "line 1 column 3: mapping keys must be scalars" },
      { "a: 1\n---\nb: 2\n", "line 2 column 1: only one YAML document is allowed" },
      { "", "the document is empty" },
      { "# nothing\n\n", "the document is empty" },
    }
    for _, c in ipairs(cases) do
      local v, err = yaml.decode(c[1])
      assert.is_nil(v, c[1])
      assert.equal(c[2], err, c[1])
    end
  end)

  it("refuses nesting deeper than 32 levels and texts over 4 MiB", function()
    local ok = assert(yaml.decode(("["):rep(32) .. ("]"):rep(32)))
    assert.is_true(json.is_array(ok))
    local v, err = yaml.decode(("["):rep(33) .. ("]"):rep(33))
    assert.is_nil(v)
    assert.equal("line 1 column 33: nesting deeper than 32 levels", err)
    local lines = {}
    for i = 1, 40 do
      lines[i] = ("  "):rep(i - 1) .. "k" .. i .. ":"
    end
    v, err = yaml.decode(table.concat(lines, "\n") .. " x\n")
    assert.is_nil(v)
    assert.equal("line 33 column 65: nesting deeper than 32 levels", err)
    v, err = yaml.decode("a: " .. ("x"):rep(4 * 1024 * 1024) .. "\n")
    assert.is_nil(v)
    assert.equal("the document is larger than 4194304 bytes", err)
  end)

  it("refuses a non-string argument", function()
    assert.has_error(function()
      yaml.decode(nil)
    end)
  end)
end)
