"""The small pieces the action server puts into a tenant's texts ("tomorrow at 17:00 with
Ana", "the time to Fri 4 Dec", button titles), in the conversation's language.

Whole sentences are templates the owners can edit (booka_common/message_templates.yml and
texts/); these are the values that fill them, built from bookings, lists and answers, so
they follow the conversation's locale too. Brazilian Portuguese differs from European
Portuguese only where listed.
"""

from __future__ import annotations

from booka_common.templating import text_set

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "confirm_attendance": "I'll be there",
        "book_again": "Book a new time",
        "change_booking": "Change it",
        "cancel_booking": "Cancel it",
        "too_late_to_cancel": "bookings can be cancelled up to {notice} before they start",
        "too_late_to_reschedule": "bookings can be moved up to {notice} before they start",
        "booking_not_active": "that booking is no longer active",
        "hour": "{count} hour",
        "hours": "{count} hours",
        "minute": "{count} minute",
        "minutes": "{count} minutes",
        "with": "{text} with {name}",
        "for_party": "{text} for {count}",
        "on_day": "on {day}",
        "coming_days": "in the coming days",
        "or": " or ",
        "anyone": "anyone",
        "anyone_free": "anyone who's free",
        "ask_us": "ask us",
        "closed": "closed",
        "morning": "Morning",
        "afternoon": "Afternoon",
        "evening": "Evening",
        "yes": "Yes",
        "no": "No",
        "talk_to_person": "Talk to a person",
        "book_appointment": "Book an appointment",
        "change_time": "The day or time",
        "change_staff": "The person",
        "change_service": "The service",
        "nothing_book_it": "Nothing, book it",
        "the_service": "the service",
        "the_staff": "the person",
        "the_party_size": "the number of people",
        "the_time": "the time",
        "the_customer_name": "the name",
        "changed_to": "{what} to {value}",
        "noted_staff": "with {value}",
        "noted_party_size": "for {value}",
        "noted_customer_name": "the name {value}",
    },
    "pt-PT": {
        "confirm_attendance": "Confirmo",
        "change_booking": "Alterar",
        "book_again": "Marcar nova hora",
        "cancel_booking": "Desmarcar",
        "too_late_to_cancel": "as marcações só podem ser desmarcadas até {notice} antes",
        "too_late_to_reschedule": "as marcações só podem ser alteradas até {notice} antes",
        "booking_not_active": "essa marcação já não está ativa",
        "hour": "{count} hora",
        "hours": "{count} horas",
        "minute": "{count} minuto",
        "minutes": "{count} minutos",
        "with": "{text} com {name}",
        "for_party": "{text} para {count}",
        "on_day": "{day}",
        "coming_days": "nos próximos dias",
        "or": " ou ",
        "anyone": "qualquer pessoa",
        "anyone_free": "quem estiver livre",
        "ask_us": "pergunte-nos",
        "closed": "fechado",
        "morning": "Manhã",
        "afternoon": "Tarde",
        "evening": "Noite",
        "yes": "Sim",
        "no": "Não",
        "talk_to_person": "Falar com uma pessoa",
        "book_appointment": "Fazer uma marcação",
        "change_time": "O dia ou a hora",
        "change_staff": "A pessoa",
        "change_service": "O serviço",
        "nothing_book_it": "Nada, pode marcar",
        "the_service": "o serviço",
        "the_staff": "a pessoa",
        "the_party_size": "o número de pessoas",
        "the_time": "a hora",
        "the_customer_name": "o nome",
        "changed_to": "{what} para {value}",
        "noted_staff": "com {value}",
        "noted_party_size": "para {value}",
        "noted_customer_name": "o nome {value}",
    },
    "pt-BR": {
        "change_booking": "Remarcar",
        "book_again": "Agendar novo horário",
        "cancel_booking": "Cancelar",
        "too_late_to_cancel": "os agendamentos só podem ser cancelados até {notice} antes",
        "too_late_to_reschedule": "os agendamentos só podem ser remarcados até {notice} antes",
        "booking_not_active": "esse agendamento não está mais ativo",
        "ask_us": "consulte a gente",
        "the_time": "o horário",
        "change_time": "O dia ou horário",
        "nothing_book_it": "Nada, pode agendar",
        "book_appointment": "Agendar um horário",
    },
    "es": {
        "confirm_attendance": "Confirmo",
        "change_booking": "Cambiarla",
        "book_again": "Reservar otra hora",
        "cancel_booking": "Cancelarla",
        "too_late_to_cancel": "las citas solo se pueden cancelar hasta {notice} antes",
        "too_late_to_reschedule": "las citas solo se pueden cambiar hasta {notice} antes",
        "booking_not_active": "esa cita ya no está activa",
        "hour": "{count} hora",
        "hours": "{count} horas",
        "minute": "{count} minuto",
        "minutes": "{count} minutos",
        "with": "{text} con {name}",
        "for_party": "{text} para {count}",
        "on_day": "el {day}",
        "coming_days": "en los próximos días",
        "or": " o ",
        "anyone": "cualquiera",
        "anyone_free": "quien esté libre",
        "ask_us": "pregúntanos",
        "closed": "cerrado",
        "morning": "Mañana",
        "afternoon": "Tarde",
        "evening": "Noche",
        "yes": "Sí",
        "no": "No",
        "talk_to_person": "Hablar con una persona",
        "book_appointment": "Pedir una cita",
        "change_time": "El día o la hora",
        "change_staff": "La persona",
        "change_service": "El servicio",
        "nothing_book_it": "Nada, resérvalo",
        "the_service": "el servicio",
        "the_staff": "la persona",
        "the_party_size": "el número de personas",
        "the_time": "la hora",
        "the_customer_name": "el nombre",
        "changed_to": "{what} a {value}",
        "noted_staff": "con {value}",
        "noted_party_size": "para {value}",
        "noted_customer_name": "el nombre {value}",
    },
}
FALLBACKS = {"pt-BR": "pt-PT"}


def phrase(locale: str | None, key: str, **values: object) -> str:
    """The piece `key` in the language of `locale` (English when there is none), filled."""
    language = text_set(locale or "en")
    table = PHRASES.get(language, {})
    text = table.get(key) or PHRASES.get(FALLBACKS.get(language, ""), {}).get(key)
    return (text or PHRASES["en"][key]).format(**values)


def joined(locale: str | None, names: list[str]) -> str:
    """ "Ana, Bruno or João" in the conversation's language."""
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + phrase(locale, "or") + names[-1]
