#!/usr/bin/env bash
# The MoveIt MoveGroup goal (moveit_msgs/action/MoveGroup) that brings the AR4's tool, pointing
# down, to <x> <y> <z> in base_link, one JSON object:
#   move-goal.sh <x> <y> <z> [--plan-only]
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: move-goal.sh <x> <y> <z> [--plan-only]" >&2; exit 2; }
for v in "$1" "$2" "$3"; do
  [[ $v =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "not a number: $v" >&2; exit 2; }
done
plan_only=false
[ "${4:-}" = "--plan-only" ] && plan_only=true
printf '{"request":{"group_name":"ar_manipulator","num_planning_attempts":5,"allowed_planning_time":5,"max_velocity_scaling_factor":0.3,"max_acceleration_scaling_factor":0.3,"goal_constraints":[{"position_constraints":[{"header":{"frame_id":"base_link"},"link_name":"ee_link","constraint_region":{"primitives":[{"type":2,"dimensions":[0.005]}],"primitive_poses":[{"position":{"x":%s,"y":%s,"z":%s},"orientation":{"w":1}}]},"weight":1}],"orientation_constraints":[{"header":{"frame_id":"base_link"},"link_name":"ee_link","orientation":{"x":1,"y":0,"z":0,"w":0},"absolute_x_axis_tolerance":0.05,"absolute_y_axis_tolerance":0.05,"absolute_z_axis_tolerance":3.15,"weight":1}]}]},"planning_options":{"plan_only":%s,"replan":true,"replan_attempts":2}}\n' "$1" "$2" "$3" "$plan_only"
