"""The hub: rooms, membership, broadcast, history and snapshots."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from bbs.hub import LOBBY, Hub
from bbs.lines import Lines, Message
from bbs.styled import Span
from tests.members import FakeMember, make, turn


def test_everyone_in_the_room_including_the_sender_hears_a_line():
    hub, (a, b) = make("alice", "bob")
    hub.say(a, "hello there")
    turn(hub)
    assert a.seen[-1] == "<alice> hello there"
    assert b.seen[-1] == "<alice> hello there"


def test_other_rooms_do_not_hear_it_and_joins_are_announced():
    hub, (a, b, c) = make("alice", "bob", "carol")
    hub.join(c, "den")
    turn(hub)
    assert b.seen[-1] == "-- carol went to den"
    hub.say(a, "lobby only")
    turn(hub)
    assert "<alice> lobby only" not in c.seen
    hub.join(a, "den")
    turn(hub)
    assert c.seen[-1] == "-- alice joined den"


def test_nicknames_are_unique_regardless_of_case_and_lookalikes():
    hub, (a,) = make("alice")
    other = FakeMember(hub, "bob")
    assert hub.claim(other, "ALICE") == "The nickname ALICE is in use."
    assert hub.claim(other, "ＡＬＩＣＥ") is not None
    assert hub.find("Alice") is a


def test_renaming_is_announced_and_frees_the_old_name():
    hub, (a, b) = make("alice", "bob")
    assert hub.claim(a, "alicia") is None
    turn(hub)
    assert b.seen[-1] == "-- alice is now known as alicia"
    assert hub.find("alice") is None
    assert hub.find("alicia") is a


def test_empty_rooms_vanish_but_the_lobby_stays():
    hub, (a,) = make("alice")
    hub.join(a, "den")
    assert "den" in hub.rooms
    hub.join(a, LOBBY)
    assert "den" not in hub.rooms
    hub.leave(a)
    assert LOBBY in hub.rooms and not hub.rooms[LOBBY].members
    assert hub.find("alice") is None


def test_joining_replays_the_last_twenty_lines():
    hub, (a, b) = make("alice", "bob")
    for i in range(25):
        hub.say(a, f"line {i}")
    late = FakeMember(hub, "late")
    hub.join(late, LOBBY)
    said = [s for s in late.seen if s.startswith("<alice>")]
    assert said == [f"<alice> line {i}" for i in range(5, 25)]


def test_ignored_senders_are_not_delivered():
    hub, (a, b) = make("alice", "bob")
    b.ignoring.add("alice")
    hub.say(a, "can you hear me")
    turn(hub)
    assert "<alice> can you hear me" not in b.seen
    assert a.seen[-1] == "<alice> can you hear me"


def test_a_broadcast_renders_once_per_terminal_shape():
    hub, members = make("a1", "a2", "a3")
    seen = []
    for m in members:
        m.deliver = seen.append
    hub.say(members[0], "hi")
    turn(hub)
    assert len(seen) == 3 and seen[0] is seen[1] is seen[2]  # one Lines, one cache


def test_view_is_a_frozen_snapshot_that_refreshes():
    clock = Clock()
    hub = Hub(clock)
    a = FakeMember(hub, "alice")
    hub.join(a, LOBBY)
    view = hub.view()
    assert view.users["alice"].room == LOBBY
    hub.join(a, "den")
    assert view.users["alice"].room == LOBBY
    assert hub.view().users["alice"].room == "den"
    a.last_active = 0.5
    hub.touch(a)
    assert hub.view().users["alice"].last_active == 0.0  # idle times lag up to a second
    a.last_active = 5.0
    hub.touch(a)
    assert hub.view().users["alice"].last_active == 5.0


def test_the_live_view_follows_the_hub_and_cannot_change_it():
    hub = Hub(Clock())
    a = FakeMember(hub, "alice")
    hub.join(a, "den")
    live = hub.live
    assert live.users["alice"].room == "den" and "den" in live.rooms
    hub.join(a, LOBBY)
    assert hub.live is live  # the same mappings, never copied
    assert live.users["alice"].room == LOBBY and "den" not in live.rooms
    with pytest.raises(TypeError):
        live.users["mallory"] = live.users["alice"]  # type: ignore[index]


def test_the_live_view_answers_membership_and_lookups_alike_at_every_step():
    hub = Hub(Clock())
    a, b = FakeMember(hub, "alice"), FakeMember(hub, "bob")
    live = hub.live
    steps = [
        lambda: hub.join(a, "den"), lambda: hub.join(b, "den"), lambda: hub.claim(a, "alicia"),
        lambda: hub.join(a, LOBBY), lambda: hub.join(b, "attic"), lambda: hub.leave(b),
    ]
    for step in steps:
        step()
        for names, table in ((("alice", "alicia", "bob"), live.users), (("den", "attic", LOBBY), live.rooms)):
            for name in names:  # asked first, before anything refreshed the views
                assert (name in table) == (table.get(name) is not None) == (name in dict(table.items()))
        assert set(live.users) == set(hub.users) and set(live.rooms) == set(hub.rooms)
        assert {k: v.room for k, v in live.users.items()} == {
            k: m.room.name if m.room else "" for k, m in hub.users.items()}


def test_wall_reaches_every_room():
    hub, (a, b) = make("alice", "bob")
    hub.join(b, "den")
    hub.wall(Message((Span("attention", "dim"),)))
    assert a.seen[-1] == b.seen[-1] == "attention"


def test_a_wall_or_a_private_line_never_overtakes_what_the_room_said_before():
    hub, (a, b) = make("alice", "bob")
    hub.say(a, "first")
    hub.tell(b, Message((Span("*carol* psst", "private"),), "carol"))
    hub.say(a, "second")
    hub.wall(Message((Span("attention", "dim"),)))
    turn(hub)
    assert b.seen[-4:] == ["<alice> first", "*carol* psst", "<alice> second", "attention"]


def test_guest_names_count_up_past_taken_ones():
    hub, _ = make("alice")
    g = FakeMember(hub, hub.guest_name())
    assert g.nick == "guest1"
    assert hub.guest_name() == "guest2"


def test_view_follows_joins_leaves_renames_and_topics():
    hub, (a, b) = make("alice", "bob")
    hub.join(b, "den")
    hub.set_topic(b, "tea")
    view = hub.view()
    assert (view.rooms["lobby"].size, view.rooms["den"].size, view.rooms["den"].topic) == (1, 1, "tea")
    hub.claim(a, "alicia")
    hub.leave(b)
    view = hub.view()
    assert set(view.users) == {"alicia"} and "den" not in view.rooms
    assert view.users["alicia"].nick == "alicia" and view.users["alicia"].room == "lobby"


def test_nobody_is_told_about_each_leave_while_the_server_closes():
    hub, (a, b, c) = make("alice", "bob", "carol")
    hub.closing = True
    hub.leave(a)
    hub.leave(b)
    turn(hub)
    assert not any("left" in line for line in c.seen)
    assert hub.find("alice") is None and hub.find("bob") is None


def test_busy_rooms_announce_comings_and_goings_once_a_second():
    from bbs.hub import BUSY_ROOM

    clock = Clock()
    hub = Hub(clock)
    crowd = [FakeMember(hub, f"user{i}") for i in range(BUSY_ROOM + 1)]
    for m in crowd:
        hub.join(m, "hall")
    clock.advance(1)
    watcher = crowd[0]
    watcher.seen.clear()
    late = [FakeMember(hub, f"late{i}") for i in range(12)]
    for m in late:
        hub.join(m, "hall")
    assert late[0].seen[-1] == "-- late0 joined hall"  # the joiner is told at once
    assert watcher.seen == []  # the room hears nothing yet...
    hub.leave(crowd[1])
    clock.advance(1)
    # ...then one line for all the arrivals and one for the departures.
    assert watcher.seen == [
        "-- 12 joined hall: " + ", ".join(f"late{i}" for i in range(10)) + " and 2 more",
        "-- 1 left hall: user1",
    ]


def test_a_turns_lines_reach_each_member_in_one_delivery_in_order():
    hub, (a, b) = make("alice", "bob")
    deliveries = b.deliveries
    carol = FakeMember(hub, "carol")
    hub.join(carol, LOBBY)
    hub.say(carol, "hi all")
    hub.say(a, "hello carol")
    assert b.seen[-1] != "<alice> hello carol"  # nothing yet: the turn is not over
    turn(hub)
    assert b.deliveries == deliveries + 1
    assert b.seen[-3:] == ["-- carol joined lobby", "<carol> hi all", "<alice> hello carol"]


def test_joining_or_leaving_delivers_what_the_room_said_before():
    hub, (a, b) = make("alice", "bob")
    hub.say(a, "before you came")
    late = FakeMember(hub, "late")
    hub.join(late, LOBBY)  # the line is history to them, shown once
    hub.say(a, "before you went")
    hub.join(b, "den")  # bob still hears what was said while he was there
    turn(hub)
    assert late.seen.count("<alice> before you came") == 1
    assert "<alice> before you went" in late.seen
    assert b.seen[-2:] == ["<alice> before you went", "-- bob joined den"]


def test_ignoring_someone_removes_only_their_lines_from_a_turn():
    hub, (a, b, c) = make("alice", "bob", "carol")
    c.ignoring.add("alice")
    hub.say(a, "from alice")
    hub.say(b, "from bob")
    turn(hub)
    assert c.seen[-1] == "<bob> from bob" and "<alice> from alice" not in c.seen
    assert b.seen[-2:] == ["<alice> from alice", "<bob> from bob"]


def test_one_failing_member_does_not_cost_the_others_their_lines(logged):
    hub, (a, b, c) = make("alice", "bob", "carol")

    def broken(lines: Lines) -> None:
        raise RuntimeError("a bug in one member's terminal")

    b.deliver = broken
    hub.say(a, "still there")
    turn(hub)
    assert a.seen[-1] == c.seen[-1] == "<alice> still there"
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert len(failures) == 1 and failures[0].check(RuntimeError)

