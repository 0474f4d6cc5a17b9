-- Generates "x y pow(x,y)" lines with C's pow (Lua 5.1's ^ calls it).
--   lua5.1 gen.lua > cases.txt          fixed cases and 2000 random ones
--   lua5.1 gen.lua N SEED > file.txt    N random cases only
local fmt = string.format
local function out(x, y)
  print(fmt("%.17g %.17g %.17g", x, y, x ^ y))
end

-- mant returns a random double in [1, 2) with all 52 fraction bits random.
local function mant()
  return 1 + math.random(0, 2^26 - 1) * 2^-26 + math.random(0, 2^26 - 1) * 2^-52
end

local function sign()
  return math.random(2) == 1 and 1 or -1
end

-- random prints one random case; most land inside the double range.
local function random()
  local kind = math.random(8)
  local x, y
  if kind == 1 then -- anything, |y*log2(x)| up to about 1100
    x = math.ldexp(mant(), math.random(-1074, 1023))
    y = sign() * mant() * 2^math.random(-20, 0) * 1100 / math.max(math.abs(math.log(x) / math.log(2)), 1e-3)
  elseif kind == 2 then -- near 1, large y
    x = 1 + sign() * mant() * 2^-math.random(1, 52)
    y = sign() * mant() * 2^math.random(0, 60)
    local t = math.abs(y * math.log(x))
    if t > 800 then y = y * 700 / t end
  elseif kind == 3 then -- integer y, negative x half the time
    y = math.random(-70, 70)
    x = sign() * math.ldexp(mant(), math.random(-12, 12))
  elseif kind == 4 then -- halves, thirds, quarters, eighths
    local d = ({2, 3, 4, 8})[math.random(4)]
    y = math.random(-40, 40) / d
    x = math.ldexp(mant(), math.random(-30, 30))
  elseif kind == 5 then -- small fractions
    y = sign() * mant() * 2^-math.random(1, 30)
    x = math.ldexp(mant(), math.random(-1074, 1023))
  elseif kind == 6 then -- integers to game-like powers
    x = math.random(1, 2^20)
    y = ({1.5, 2.5, 1/3, 2/3, 0.25, 0.75, 1.2, 1.8, 3, 4, 0.1, 1.05})[math.random(12)]
  elseif kind == 7 then -- tiny and huge x, moderate y
    x = math.ldexp(mant(), math.random(2) == 1 and math.random(-1074, -900) or math.random(900, 1023))
    y = sign() * mant() * 2^-math.random(0, 8)
  else -- plain decimals
    x = math.random(1, 10^6) / 1000
    y = math.random(-10^5, 10^5) / 1000
  end
  out(x, y)
end

if arg[1] then
  math.randomseed(tonumber(arg[2] or 1))
  for _ = 1, tonumber(arg[1]) do random() end
  return
end

-- Game-like: XP curves, distances, cube roots.
for lvl = 1, 200 do out(lvl, 1.5) out(lvl, 2.5) out(lvl * 0.5, 1.2) end
for a = 1, 30 do for b = 1, 30, 3 do out(a * a + b * b, 0.5) end end
for base = 1, 300 do out(base, 1/3) out(base, 2/3) out(base + 0.5, -1/3) end
for i = 0, 60 do out(1.1, i) out(1.05, i * 0.5) out(0.95, i) end

-- Exact results: k^n fitting in 53 bits, powers of two, perfect powers
-- with fractional y, and exact midpoints between two doubles (ties).
for k = 3, 99, 2 do
  for n = 3, 40 do
    if n * math.log(k) / math.log(2) < 55 then out(k, n) out(k * 2^-30, n) end
  end
end
for k = 2, 60 do out(k * k, 1.5) out(k * k, 2.5) out(k * k * k * k, 0.75) out(k * k * k * k, 1.25) end
for _, k in ipairs({131071, 262143, 262141, 181, 177}) do
  out(k, 3) out(k * k, 1.5) out(k * k * k * k, 0.75) out(k, 7) out(k * 2^-200, 3)
end
for e = -1074, 1023, 37 do out(2, e) out(0.5, e + 0.5) out(4, e / 2) end
out(3 * 2^-215, 5) -- 243*2^-1075, a subnormal tie

-- Overflow and underflow edges.
for i = -20, 20 do
  out(2, 1024 + i / 1000) out(0.5, 1074 + i / 100) out(10, 308.25 + i / 100)
  out(2.718281828459045, 709.78 + i / 1000) out(2.718281828459045, -745.13 + i / 1000)
  out(1 + 2^-40, 2^40 * (709.7 + i / 100)) out(1 - 2^-40, 2^40 * (745 + i / 100))
end

-- Negative x with integer y.
for i = -30, 30 do out(-2.5, i) out(-1.1, i) out(-0.3, i) out(-7, i) end

math.randomseed(1)
for _ = 1, 2000 do random() end
