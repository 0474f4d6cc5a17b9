-- guest.lua: a script for the CLI's tests.
local M = { count = 0, name = "guest", items = { 1, 2, 3 } }

function M.add(a, b) return a + b end

function M.greet(who) return "hello, " .. who end

function M.total(list)
  local sum = 0
  for _, v in ipairs(list) do sum = sum + v end
  return sum
end

function M.boom() error("boom") end

function M.spin() while true do end end

function M.hello() host.log("hello from lua", 42) end
function M.odd() host.log({ x = 1, hp = 0/0 }, 1/0) end

-- A coroutine, as a cutscene runs one: the CLI opens coroutine.
function M.steps(n)
  local scene = coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
  local got = {}
  for _ = 1, n do got[#got + 1] = scene() end
  return got
end

return M
