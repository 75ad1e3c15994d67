%% The Erlang counterpart of `local.selectiveReceive100k`: a process with
%% 100,000 unrelated messages queued, then 100 that match, takes the 100
%% with a selective receive (order kept); the time from the first receive
%% to the last, in ms. Run: erlc selective_receive.erl && erl -noshell -s selective_receive main -s init stop
-module(selective_receive).
-export([main/0]).

run() ->
    Self = self(),
    P = spawn(fun() ->
        [self() ! {other, I} || I <- lists:seq(1, 100000)],
        [self() ! {match, I} || I <- lists:seq(1, 100)],
        T0 = erlang:monotonic_time(microsecond),
        Got = [receive {match, J} -> J end || _ <- lists:seq(1, 100)],
        T1 = erlang:monotonic_time(microsecond),
        Got = lists:seq(1, 100),
        Self ! {done, (T1 - T0) / 1000}
    end),
    receive {done, Ms} -> _ = P, Ms end.

main() ->
    _ = run(),
    Runs = [run() || _ <- lists:seq(1, 7)],
    Sorted = lists:sort(Runs),
    io:format("selective receive 100 of 100k: median ~.1f ms, runs ~s~n", [lists:nth(4, Sorted), lists:join(" ", [float_to_list(R, [{decimals, 1}]) || R <- Runs])]).
