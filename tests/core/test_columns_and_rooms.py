"""/join refuses a bad room name with the reason."""

from __future__ import annotations

import pytest

from bbs import effects as fx
from bbs.commands import CommandError
from tests.core.test_commands import run


@pytest.mark.parametrize("argument", ["bad room!", "bad room", "#bad!", "a", "9lives"])
def test_join_refuses_a_bad_room_name_with_the_reason_and_moves_nobody(argument):
    with pytest.raises(CommandError) as refused:
        run(f"/join {argument}")
    message = str(refused.value)
    assert "A room name must" in message and "You are still in lobby." in message


def test_join_takes_a_good_room_name_with_or_without_a_hash():
    assert run("/join den") == [fx.Join("den")]
    assert run("/join #den") == [fx.Join("den")]
    assert run("/join  Café ") == [fx.Join("Café")]
