-- A child run's end completes its parent's waitpoint and wakes the parent inside transitionRun's
-- own statement now (migrations/src/queries/child-waits.ts): the run state machine has one
-- writer. The trigger of 0041 did the same from the database, outside the transition table.
drop trigger runs_complete_child_waits on runs;
drop function helmr_complete_child_waits();
