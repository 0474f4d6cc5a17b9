-- mover.lua moves each entity it drives along x, speed units a second.
--
-- The fields of M are the script's state. A reload keeps their values, and the
-- running ones win over the new source's: steps counts on across saves, and
-- changing speed = 2 below changes nothing in a running game. Change the code
-- instead: move along y, or twice as fast (M.speed * 2 * dt).
local M = { speed = 2, steps = 0 }

-- update moves entity e (a number) for a frame of dt seconds. The game calls it
-- once a frame for each entity this script drives.
function M.update(e, dt)
  local x, y = game.get_pos(e)
  game.set_pos(e, x + M.speed * dt, y)
  M.steps = M.steps + 1
end

return M
