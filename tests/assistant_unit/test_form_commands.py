"""The LLM's second opinion inside a form: only a well-formed command grounded in the
customer's words or the choices on screen is used, read back as the customer's answer."""

from actions.form_commands import FormCommand, in_the_message, parse_command

CHOICES = ["Ana", "Bruno", "any"]


def test_a_choice_must_be_one_on_screen():
    assert parse_command('{"command": "choose", "option": 2}', "the guy", CHOICES) == FormCommand(
        "choose", value="2"
    )
    assert parse_command('{"command": "choose", "option": 4}', "the guy", CHOICES) is None
    assert parse_command('{"command": "choose", "option": 1}', "the first", []) is None


def test_a_value_must_be_in_the_customers_own_words():
    assert (
        parse_command(
            '{"command": "set_slot", "slot": "staff", "value": "Ana"}', "w/ ana pls", CHOICES
        ).value
        == "Ana"
    )
    assert (
        parse_command(
            '{"command": "set_slot", "slot": "staff", "value": "Carla"}', "the lady", CHOICES
        )
        is None
    )
    assert (
        parse_command(
            '{"command": "set_slot", "slot": "time", "value": "friday at 5pm"}', "fri 5ish?", []
        ).slot
        == "time"
    )
    assert (
        parse_command(
            '{"command": "set_slot", "slot": "time", "value": "friday at 6pm"}', "fri 5ish?", []
        )
        is None
    )
    assert (
        parse_command('{"command": "set_slot", "slot": "colour", "value": "red"}', "red", [])
        is None
    )


def test_numbers_and_weekdays_are_checked_for_times_and_sizes():
    assert in_the_message("4", "we are four", "party_size")
    assert not in_the_message("6", "we are four", "party_size")
    assert in_the_message("tuesday 12", "tues at noon", "time")
    assert not in_the_message("wednesday", "tues at noon", "time")


def test_anything_else_is_not_a_command():
    assert parse_command("Sure, they mean Bruno!", "the guy", CHOICES) is None
    assert parse_command('{"command": "none"}', "hmm", CHOICES) is None
    assert parse_command('{"command": "book_everything"}', "hmm", CHOICES) is None
    assert parse_command(
        '```json\n{"command": "cancel"}\n```', "forget it", CHOICES
    ) == FormCommand("cancel")


def test_a_command_reads_back_as_the_customers_answer():
    message = {
        "text": "the guy",
        "intent": {"name": "nlu_fallback"},
        "entities": [],
        "metadata": {"phone": "1"},
    }
    chosen = FormCommand("choose", value="2").as_message(message)
    assert chosen["text"] == "2" and chosen["metadata"] == {"phone": "1"}
    assert FormCommand("yes").as_message(message)["intent"]["name"] == "affirm"
    staff = FormCommand("set_slot", "staff", "Ana").as_message(message)
    assert staff["entities"] == [{"entity": "staff", "value": "Ana", "start": 0, "end": 3}]
    assert FormCommand("set_slot", "party_size", "4").as_message(message)["text"] == "4 people"
