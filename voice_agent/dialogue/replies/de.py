"""German replies: every sentence the agent says, formal "Sie", and German spoken forms.

The keys and fields are English's (``en.py``). Pieces spoken inside other sentences are in the
case the sentence needs: stages in the genitive ("während der Ausfuhrverzollung"), parties and
durations in the dative ("bei dem Zollagenten", "innerhalb von vierzehn Tagen"). Numbers are
written in words, so the synthesizer never has to guess how a digit is read.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import get_currency_name
from num2words import num2words

from voice_agent.dialogue.replies import Speech
from voice_agent.languages import LOCALES

TEMPLATES: dict[str, str] = {
    # short openers: the first chunk of a reply (at most ~6 words)
    "ack.hello": "Guten Tag, danke für Ihren Anruf.",
    "ack.got_it": "Verstanden.",
    "ack.thanks": "Danke.",
    "ack.sure": "Gerne.",
    "ack.of_course": "Selbstverständlich.",
    "ack.all_right": "In Ordnung.",
    "ack.sorry": "Das tut mir leid.",
    "ack.sorry_unclear": "Entschuldigung, das habe ich nicht verstanden.",
    "ack.done": "Erledigt.",
    "ack.latest": "Hier ist der aktuelle Stand.",
    "ack.checking": "Danke, ich habe nachgesehen.",
    "ack.verified": "Danke, das stimmt überein.",
    "ack.good_news": "Eine gute Nachricht.",
    "ack.bye": "Vielen Dank für Ihren Anruf.",
    "ack.welcome": "Gern geschehen.",
    "ack.no_problem": "Kein Problem.",
    "ack.frustrated": "Das tut mir leid, ich verstehe.",
    "ack.slower": "Natürlich, etwas langsamer.",
    # general
    "greeting.ask": "Wie kann ich Ihnen heute bei Ihrer Bestellung helfen?",
    "general.ask_again": "Könnten Sie das bitte wiederholen?",
    "general.anything_else": "Kann ich sonst noch etwas für Sie tun?",
    # outbound calls (dialogue/purpose.py)
    "outbound.opening": "Guten Tag, hier ist {shop}, wir rufen wegen Ihrer Reklamation an.",
    "outbound.opening_return": "Guten Tag, hier ist {shop}, wir rufen wegen Ihrer Rücksendung an.",
    "outbound.return.refunded": (
        "Ihre Rücksendung {reference} wurde erstattet, auf dem Weg, auf dem Sie bezahlt "
        "haben. Der Shop schickt Ihnen den Beleg per E-Mail."
    ),
    "outbound.verify_first": (
        "Bevor ich Ihnen Einzelheiten nenne, muss ich sicherstellen, dass ich mit der "
        "richtigen Person spreche."
    ),
    "outbound.claim.accepted": (
        "Ihre Reklamation {reference} wurde angenommen. Der Shop schickt Ihnen die nächsten "
        "Schritte per E-Mail."
    ),
    "outbound.claim.rejected": (
        "Es tut mir leid, Ihre Reklamation {reference} wurde abgelehnt. Der Shop schickt "
        "Ihnen die Gründe per E-Mail."
    ),
    "outbound.machine.callback": "Bitte rufen Sie uns zurück, wann es Ihnen passt.",
    "outbound.machine.callback_number": "Bitte rufen Sie uns unter {number} zurück.",
    "outbound.machine.goodbye": "Vielen Dank, auf Wiederhören.",
    "general.what_else": "Womit kann ich Ihnen helfen?",
    "general.goodbye": "Auf Wiederhören!",
    "recording.notice": (
        "Dieser Anruf wird aufgezeichnet, damit wir unseren Service prüfen können. "
        "Wenn Sie das nicht möchten, sagen Sie es einfach."
    ),
    "recording.stopped": "In Ordnung, dieser Anruf wird nicht aufgezeichnet.",
    "recording.carry_on": "Wie kann ich Ihnen helfen?",
    "general.yes_or_no": "Bitte sagen Sie Ja oder Nein.",
    # said by the call session itself
    "session.reprompt": "Sind Sie noch da? Wie kann ich Ihnen helfen?",
    "session.silence_goodbye": (
        "Ich höre nichts mehr, daher beende ich den Anruf jetzt. Auf Wiederhören."
    ),
    "session.time_limit_goodbye": (
        "Wir haben die Höchstdauer für diesen Anruf erreicht. Vielen Dank, auf Wiederhören."
    ),
    # a caller speaking a language the line does not offer
    "language.unsupported": "Auf dieser Leitung kann ich Ihnen nur auf {languages} helfen.",
    "language.offer_person": (
        "Ich kann veranlassen, dass ein Mitarbeiter Sie zurückruft. Möchten Sie das?"
    ),
    "scope.cannot": "Dabei kann ich Ihnen leider nicht helfen.",
    "scope.offer": (
        "Ich helfe bei Bestellungen, Lieferungen, Rücksendungen, Zöllen, Adressänderungen "
        "und Produkten."
    ),
    "scope.person": "Oder möchten Sie, dass ein Mitarbeiter Sie zurückruft?",
    "repeat.nothing": "Ich habe noch nichts gesagt.",
    "goals.after_verify": "Darauf komme ich zurück, sobald ich bestätigt habe, dass Sie es sind.",
    "frustrated.offer": "Wenn Ihnen das lieber ist, kann Sie zuerst ein Mitarbeiter zurückrufen.",
    "frustrated.offer_ask": "Möchten Sie das?",
    "frustrated.or_tell": "Oder erzählen Sie mir, was passiert ist, dann prüfe ich es sofort.",
    # verification
    "verify.ask_number": "Wie lautet Ihre Bestellnummer?",
    "verify.how_number": (
        "Sie können sie Ziffer für Ziffer sagen oder über die Telefontastatur eingeben."
    ),
    "verify.number_unclear": "Ich habe keine vollständige Bestellnummer verstanden.",
    "verify.number_length": "Bestellnummern haben {digits} Ziffern.",
    "verify.read_back": "Bestellung {number}.",
    "verify.ask_factor": "Um zu bestätigen, dass Sie es sind, nennen Sie mir bitte {factors}.",
    "verify.factor.postcode": "die Postleitzahl",
    "verify.factor.email_prefix": "die ersten {letters} Buchstaben der E-Mail-Adresse",
    "verify.factor.phone_last4": "die letzten {digits} Ziffern der Telefonnummer",
    "verify.factor_unclear": "Das habe ich nicht verstanden.",
    "verify.no_match": "Das stimmt nicht mit unseren Daten zu Bestellung {number} überein.",
    "verify.attempts_left": "Ihnen bleibt noch {count} Versuch.",
    "verify.attempts_left_many": "Ihnen bleiben noch {count} Versuche.",
    "verify.locked_now": (
        "Zu Ihrer Sicherheit ist Bestellung {number} jetzt für {duration} gesperrt."
    ),
    "verify.locked": "Zu Ihrer Sicherheit ist Bestellung {number} bis {time} gesperrt.",
    "verify.heard": "Ich habe {value} verstanden.",
    "verify.is_that_right": "Ist das richtig?",
    "verify.heard_wrong": "Entschuldigung, mein Fehler.",
    "verify.keypad": (
        "Sie können auch die Telefontastatur benutzen und dann die Rautetaste drücken."
    ),
    "verify.minutes": "{count} Minuten",
    "verify.hours": "{count} Stunden",
    "verify.one_hour": "eine Stunde",
    "verify.offer_person": (
        "Ich kann veranlassen, dass ein Mitarbeiter Sie zurückruft. Möchten Sie das?"
    ),
    "verify.what_now": "Wie kann ich Ihnen bei dieser Bestellung helfen?",
    "verify.too_many_unclear": "Ich habe Schwierigkeiten, Ihre Angaben zu verstehen.",
    # order status
    "status.not_dispatched": "Ihre Bestellung wurde noch nicht versandt.",
    "status.placed": "Die Bestellung wurde am {date} aufgegeben, und wir bereiten sie gerade vor.",
    "status.event": "Am {date}, in {place}: {text}.",
    "status.holder.pickup": "Das Paket ist bei der Abholung im Inland, bei {carrier}.",
    "status.holder.export_customs": "Das Paket ist in der Ausfuhrverzollung.",
    "status.holder.international": "Das Paket ist im internationalen Transport, bei {carrier}.",
    "status.holder.import_customs": "Das Paket ist beim Einfuhrzoll im Zielland {country}.",
    "status.holder.last_mile": "Das Paket ist jetzt bei {courier} zur Zustellung.",
    "status.delivered": "Das Paket wurde am {date} zugestellt.",
    "status.window": "Wir erwarten die Lieferung zwischen {start} und {end}.",
    "status.window_by": "Wir erwarten die Lieferung bis {date}.",
    "status.late": "Die Lieferung wurde bis {date} erwartet, sie hat also Verspätung.",
    "status.late_claim": (
        "Falls das Paket verloren ist, kann ich das für Sie prüfen und eine Reklamation eröffnen."
    ),
    # lost parcel
    "lost.not_dispatched": (
        "Ihre Bestellung wurde noch nicht versandt, sie kann also nicht verloren gegangen sein."
    ),
    "lost.last_scan": "Der letzte Scan war vor {age}, am {date}, während {stage}.",
    "lost.scan_text": "Er lautet: {text}.",
    "lost.delivered": "Laut Sendungsverfolgung wurde das Paket am {date} zugestellt, in {place}.",
    "lost.not_yet": (
        "Während {stage} gilt ein Paket erst nach {days} ohne Scan als verloren, es ist also "
        "sehr wahrscheinlich noch unterwegs."
    ),
    "lost.call_back_on": (
        "Wenn es bis {date} nichts Neues gibt, rufen Sie uns an, dann eröffnen wir eine "
        "Reklamation."
    ),
    "lost.presumed": "Nach {days} ohne Scan in dieser Phase gilt das Paket als verloren.",
    "lost.delivered_missing": (
        "Ein Paket, das als zugestellt gilt, aber nicht angekommen ist, wird als verloren "
        "behandelt."
    ),
    "lost.responsible": "Die Verantwortung liegt bei {party}.",
    "lost.held": "Uns liegt bereits Folgendes vor: {evidence}.",
    "lost.held_nothing": "Für diese Phase liegen uns noch keine Nachweise vor.",
    "lost.missing": "Es fehlt noch Folgendes, das wir anfordern: {evidence}.",
    "lost.missing_nothing": "Sonst wird nichts benötigt.",
    "lost.confirm": "Soll ich eine Reklamation eröffnen?",
    "lost.existing": (
        "Zu dieser Bestellung gibt es bereits eine offene Reklamation, Referenz {reference}."
    ),
    "lost.existing_by": "Wir melden uns bis {date} bei Ihnen.",
    "claim.opened": "Ihre Reklamation ist eröffnet.",
    "claim.reference": "Ihre Referenznummer lautet {reference}.",
    "claim.reference_again": "Noch einmal: {reference}.",
    "claim.outcome.reship_or_refund": (
        "Ihre Bestellung ist versichert, wir senden sie also bis {date} erneut oder erstatten "
        "Ihnen den Betrag."
    ),
    "claim.outcome.investigation": (
        "Wir klären das mit {party} und geben Ihnen bis {date} eine Antwort."
    ),
    "claim.outcome.release_guidance": (
        "Wir schicken Ihnen bis {date} die Unterlagen, die der Zoll braucht, damit Sie das "
        "Paket freigeben lassen können."
    ),
    "claim.declined": "Gut, dann keine Reklamation.",
    # hand-off
    "handoff.created": "Ein Mitarbeiter ruft Sie am {date} bis {time} zurück.",
    "handoff.created_today": "Ein Mitarbeiter ruft Sie heute bis {time} zurück.",
    "handoff.zone_time": "{time} Ortszeit {city}",
    "handoff.reference": "Ihre Referenznummer lautet {reference}.",
    "handoff.transfer": (
        "Ich verbinde Sie jetzt mit einem Mitarbeiter. Ihre Referenznummer lautet {reference}."
    ),
    "handoff.declined": "Kein Problem.",
    "handoff.quote_reference": "Wenn Sie uns wieder anrufen, nennen Sie bitte diese Referenz.",
    # where to call back
    "callback.offer_caller": (
        "Sollen wir Sie unter der Nummer zurückrufen, von der Sie anrufen, mit der Endung {digits}?"
    ),
    "callback.offer_order_phone": (
        "Sollen wir Sie unter der Nummer aus Ihrer Bestellung zurückrufen, mit der Endung {digits}?"
    ),
    "callback.offer_order_email": (
        "Sollen wir Ihnen an die E-Mail-Adresse aus Ihrer Bestellung antworten?"
    ),
    "callback.ask": "Unter welcher Telefonnummer oder E-Mail-Adresse erreichen wir Sie am besten?",
    "callback.read_back": "Das ist {contact}.",
    "callback.unclear": "Ich habe keine Telefonnummer und keine E-Mail-Adresse verstanden.",
    "callback.unclear_yes_no": (
        "Bitte sagen Sie Ja, oder nennen Sie mir die richtige Nummer oder Adresse."
    ),
    "callback.ask_again": "Bitte nennen Sie die Nummer oder die E-Mail-Adresse noch einmal.",
    "callback.or_none": "Oder sagen Sie Nein, wenn Sie keine angeben möchten.",
    "callback.order_details": "Das Team sieht Ihren Anruf zusammen mit Ihren Bestelldaten.",
    "callback.no_contact": (
        "Ohne Nummer können wir Sie nicht zurückrufen, aber das Team sieht Ihren Anruf."
    ),
    "callback.plus": "plus {digits}",
    "callback.email": "{local} at {domain}",
    "symbol.dot": "Punkt",
    "symbol.underscore": "Unterstrich",
    "symbol.dash": "Bindestrich",
    "symbol.plus": "plus",
    # overdue, whatever was asked
    "overdue.said": "Ihr Paket ist überfällig: Seit {age}, also seit {date}, gab es keinen Scan.",
    "overdue.rule": "Während {stage} gilt ein Paket nach {days} ohne Scan als verloren.",
    # tracking number and carrier
    "tracking.number": "Die Sendungsnummer lautet {number}.",
    "tracking.carrier": "Das Paket wird von {carrier} befördert und von {courier} zugestellt.",
    "tracking.carrier_only": "Das Paket wird von {carrier} befördert.",
    "tracking.offer_link": (
        "Soll ich den Shop bitten, Ihnen den Link zur Sendungsverfolgung per E-Mail zu schicken?"
    ),
    "tracking.none": (
        "Es gibt noch keine Sendungsnummer: Das Paket wurde noch keinem Versanddienst übergeben."
    ),
    # where it was left; delivered but not received
    "where.delivered": "Das Paket wurde am {date} zugestellt, in {place}.",
    "where.left": "Der Zustellscan lautet: {text}.",
    "where.no_detail": "Der Zustellscan sagt nicht, wo das Paket abgelegt wurde.",
    "where.if_missing": "Wenn Sie es nicht finden, kann ich eine Reklamation eröffnen.",
    "where.check_first": "Bitte sehen Sie zuerst dort nach.",
    "where.not_delivered": "Das Paket wurde noch nicht zugestellt.",
    # damaged, wrong or missing item
    "item.sorry.damaged_item": "Der Artikel hätte nicht beschädigt ankommen dürfen.",
    "item.sorry.wrong_item": "Sie hätten das erhalten sollen, was Sie bestellt haben.",
    "item.sorry.missing_item": "Alles, was Sie bestellt haben, hätte im Paket sein sollen.",
    "item.claim.damaged_item": "Ich kann eine Reklamation für den beschädigten Artikel eröffnen.",
    "item.claim.wrong_item": "Ich kann eine Reklamation für den falschen Artikel eröffnen.",
    "item.claim.missing_item": "Ich kann eine Reklamation für den fehlenden Artikel eröffnen.",
    "item.photos": "Der Shop wird Sie um Folgendes bitten: {evidence}.",
    "item.outcome": (
        "Sobald sie dem Shop vorliegen, erhalten Sie innerhalb von {days} einen Ersatz oder "
        "eine Erstattung."
    ),
    "item.confirm": "Soll ich die Reklamation eröffnen?",
    "item.existing": "Dafür gibt es bereits eine offene Reklamation, Referenz {reference}.",
    "claim.photos_needed": "Der Shop meldet sich wegen der Fotos bei Ihnen.",
    "claim.outcome.replace_or_refund": (
        "Sie erhalten bis {date} einen Ersatz oder eine Erstattung, sobald dem Shop die Fotos "
        "vorliegen."
    ),
    # refund status (the shop's records)
    "refund.paid": (
        "Ihre Erstattung über {amount} wurde am {date} auf Ihr ursprüngliches Zahlungsmittel "
        "ausgezahlt."
    ),
    "refund.approved": (
        "Ihre Erstattung über {amount} wurde am {date} genehmigt, ist aber noch nicht ausgezahlt."
    ),
    "refund.pending": "Ihre Erstattung über {amount} wird seit {date} bearbeitet.",
    "refund.refused": "Ihre Erstattung wurde am {date} abgelehnt.",
    "refund.offer_person": "Ein Mitarbeiter kann Ihnen den Grund erklären. Möchten Sie das?",
    "refund.received": "Wir haben Ihre Rücksendung am {date} erhalten.",
    "refund.due": "Wir erstatten innerhalb von {days} nach Eingang, also bis {date}.",
    "refund.return_registered": (
        "Ihre Rücksendung wurde am {date} angemeldet, ist bei uns aber noch nicht eingegangen."
    ),
    "refund.after_receipt": "Wir erstatten innerhalb von {days} nach Eingang der Artikel.",
    "refund.request_open": "Ihre Rücksendeanfrage mit der Referenz {reference} ist offen.",
    "refund.nothing": "Zu dieser Bestellung finde ich keine Rücksendung und keine Erstattung.",
    "refund.how": (
        "Einer Erstattung geht eine Rücksendung voraus; wenn Sie möchten, eröffne ich eine "
        "Rücksendeanfrage."
    ),
    # cancellation
    "cancel.can_ask": (
        "Ihre Bestellung wurde noch nicht versandt, ich kann den Shop also bitten, sie zu "
        "stornieren."
    ),
    "cancel.not_done": "Storniert ist sie, sobald der Shop das bestätigt.",
    "cancel.confirm": "Soll ich die Stornierungsanfrage senden?",
    "cancel.dispatched": (
        "Ihre Bestellung wurde bereits versandt und kann jetzt nicht mehr storniert werden."
    ),
    "cancel.return_path": (
        "Nach der Ankunft können Sie sie innerhalb von {days} nach Zustellung zurücksenden."
    ),
    "cancel.return_instead": (
        "Da sie bereits zugestellt wurde, können Sie sie stattdessen zurücksenden."
    ),
    "cancel.existing": "Es gibt bereits eine Stornierungsanfrage, Referenz {reference}.",
    # requests recorded for the shop
    "request.recorded.cancellation": "Ich habe Ihre Stornierungsanfrage an den Shop gesendet.",
    "request.recorded.invoice": (
        "Ich habe den Shop gebeten, Ihnen die Rechnung per E-Mail zu schicken."
    ),
    "request.recorded.duplicate_charge": (
        "Ich habe das Team des Shops gebeten, die doppelte Abbuchung zu prüfen."
    ),
    "request.recorded.complaint": "Ich habe Ihre Beschwerde für das Team des Shops aufgenommen.",
    "request.recorded.tracking_link": (
        "Ich habe den Shop gebeten, Ihnen den Link zur Sendungsverfolgung per E-Mail zu schicken."
    ),
    "request.reply_by": "Sie erhalten bis {date} eine Antwort.",
    "request.declined": "Gut, dann sende ich nichts.",
    "charge.cannot_see": "Zahlungen kann ich selbst nicht einsehen.",
    "complaint.heard": "Danke, dass Sie uns das mitteilen.",
    # delivery times before buying
    "delivery_time.country": (
        "Für das Lieferland {country} dauert die Lieferung bei den meisten Artikeln {value}."
    ),
    "delivery_time.default": (
        "Die Lieferung dauert in der Regel {value}; nennen Sie mir das Land für Genaueres."
    ),
    "delivery_time.others": "Einige Artikel kommen schneller an: {products}.",
    "delivery_time.unknown": "Dazu habe ich keine Lieferzeiten.",
    # no order number at hand
    "lookup.by_phone": "Ich kann Ihre Bestellung über die Nummer suchen, von der Sie anrufen.",
    "lookup.ask_email": "Mit welcher E-Mail-Adresse haben Sie bestellt?",
    "lookup.spell": "Sie können sie gern buchstabieren.",
    "lookup.email_unclear": "Ich habe keine E-Mail-Adresse verstanden.",
    "lookup.email_read_back": "Das ist {email}.",
    "lookup.phone_read_back": "Das ist {phone}.",
    "lookup.ask_factor": "Um Ihre Bestellung zu finden, nennen Sie mir bitte {factors}.",
    "lookup.found": "Ich habe Ihre Bestellung gefunden, Nummer {number}.",
    "lookup.no_match": "Das stimmt nicht mit meinen Daten überein.",
    "lookup.locked": "Zu Ihrer Sicherheit kann ich gerade nicht erneut suchen.",
    "lookup.locked_now": "Zu Ihrer Sicherheit kann ich {minutes} Minuten lang nicht erneut suchen.",
    # returns
    "return.not_delivered": "Ihre Bestellung wurde noch nicht zugestellt.",
    "return.window_rule": "Sie können Artikel innerhalb von {days} nach Zustellung zurücksenden.",
    "return.expired": (
        "Die Bestellung wurde am {date} zugestellt, und die Rückgabefrist von {days} endete am "
        "{end}."
    ),
    "return.offer_person": (
        "Ich kann einen Mitarbeiter bitten, sich das anzusehen. Möchten Sie das?"
    ),
    "return.until": (
        "Die Bestellung wurde am {date} zugestellt, Sie können sie also bis {end} zurücksenden."
    ),
    "return.shipping.seller": "Die Rücksendung ist für Sie kostenlos.",
    "return.shipping.shopper": "Die Kosten der Rücksendung tragen Sie.",
    "return.refund": "Wir erstatten innerhalb von {days} nach Eingang der Artikel.",
    "return.refund_amount": (
        "Wir erstatten die gezahlten {amount} innerhalb von {days} nach Eingang."
    ),
    "return.confirm": "Soll ich eine Rücksendeanfrage eröffnen?",
    "return.opened": "Ihre Rücksendeanfrage ist eröffnet.",
    "return.existing": (
        "Zu dieser Bestellung gibt es bereits eine Rücksendeanfrage, Referenz {reference}."
    ),
    "return.declined": "Gut, dann keine Rücksendeanfrage.",
    # duties and taxes
    "duties.seller": (
        "Für Ihre Bestellung gilt die Lieferbedingung {incoterm}, die Einfuhrabgaben und "
        "Steuern zahlt also der Verkäufer."
    ),
    "duties.seller_nothing": "Bei der Zustellung zahlen Sie nichts.",
    "duties.shopper": (
        "Für Ihre Bestellung gilt die Lieferbedingung {incoterm}, die Einfuhrabgaben und "
        "Steuern zahlen also Sie als Empfänger."
    ),
    "duties.shopper_how": (
        "Der Zusteller oder der Zoll fordert sie vor der Zustellung bei Ihnen an."
    ),
    "duties.held": "Ihr Paket ist seit {date} beim Einfuhrzoll.",
    "duties.held_text": "Der letzte Scan lautet: {text}.",
    "duties.documents": "Der Zoll kann Sie um Folgendes bitten: {documents}.",
    "duties.seller_documents": "Darum kümmern wir uns, und wir sind schon dabei.",
    # address change
    "address.can_change": (
        "Ihre Bestellung wurde noch nicht versandt, ich kann die Adresse also ändern."
    ),
    "address.ask": "Wie lautet die neue Adresse, mit Postleitzahl?",
    "address.no_postcode": "Darin habe ich keine Postleitzahl gehört.",
    "address.ask_again": "Bitte nennen Sie die vollständige neue Adresse mit Postleitzahl.",
    "address.read_back": "Die neue Adresse ist {address}, Postleitzahl {postcode}.",
    "address.confirm": "Soll ich sie ändern?",
    "address.changed": "Die Lieferadresse ist geändert.",
    "address.declined": "Die Adresse bleibt, wie sie ist.",
    "address.dispatched": (
        "Ihr Paket wurde bereits versandt, daher kann ich die Adresse hier nicht ändern."
    ),
    "address.options": "Sie haben folgende Möglichkeiten: {options}.",
    "address.offer_person": "Möchten Sie, dass Ihnen ein Mitarbeiter dabei hilft?",
    # products
    "product.which": "Um welches Produkt geht es?",
    "product.not_found": "Ich konnte dieses Produkt in unserem Katalog nicht finden.",
    "product.say_name": "Können Sie mir den Namen des Produkts nennen?",
    "product.fact": "{product}: {attribute}, {value}.",
    "product.fact_more": "{attribute}, {value}.",
    "product.ship_time": "Für {product} und das Lieferland {country} dauert der Versand {value}.",
    "product.ship_time_default": "Der Versand von {product} dauert in der Regel {value}.",
    "product.unknown": "Diese Information habe ich zu {product} leider nicht.",
    "product.known": "Ich kann Ihnen dazu Folgendes sagen: {attributes}.",
    "product.offer_person": "Oder ein Mitarbeiter findet es für Sie heraus. Möchten Sie das?",
    "product.what": "Was möchten Sie über {product} wissen?",
    # product attributes the catalogue names (another shop's own names are said as they are)
    "attribute.age": "Alter",
    "attribute.battery": "Akku",
    "attribute.bluetooth": "Bluetooth",
    "attribute.cabin": "Handgepäck",
    "attribute.capacity": "Kapazität",
    "attribute.care": "Pflege",
    "attribute.colour": "Farbe",
    "attribute.colours": "Farben",
    "attribute.compatibility": "Kompatibilität",
    "attribute.control": "Steuerung",
    "attribute.data": "Datenübertragung",
    "attribute.fit": "Passform",
    "attribute.height": "Höhe",
    "attribute.laptop": "Laptop",
    "attribute.length": "Länge",
    "attribute.material": "Material",
    "attribute.memory": "Speicher",
    "attribute.night_vision": "Nachtsicht",
    "attribute.note": "Hinweis",
    "attribute.output": "Ausgangsleistung",
    "attribute.pieces": "Teile",
    "attribute.plug": "Stecker",
    "attribute.power": "Stromversorgung",
    "attribute.remote": "Fernbedienung",
    "attribute.resolution": "Auflösung",
    "attribute.safety": "Sicherheit",
    "attribute.size": "Größe",
    "attribute.size_guide": "Größentabelle",
    "attribute.sizes": "Größen",
    "attribute.voltage": "Spannung",
    "attribute.water_resistance": "Wasserschutz",
    "attribute.weight": "Gewicht",
    "attribute.wireless_charging": "kabelloses Laden",
    # stages, in the genitive: said after "während"
    "stage.pickup": "der Abholung im Inland",
    "stage.export_customs": "der Ausfuhrverzollung",
    "stage.international": "des internationalen Transports",
    "stage.import_customs": "der Einfuhrverzollung",
    "stage.last_mile": "der Zustellung",
    # parties, in the dative: said after "bei" (lost.responsible) and "mit" (the short ones)
    "party.seller": "dem Verkäufer, also bei uns",
    "party.first_mile_carrier": "dem Abholdienst, {carrier}",
    "party.customs_broker": "dem Zollagenten",
    "party.international_carrier": "dem internationalen Frachtführer, {carrier}",
    "party.last_mile_courier": "dem Zustelldienst, {courier}",
    "party.shopper": "Ihnen, als Importeur",
    "party.short.seller": "unserem Lagerteam",
    "party.short.first_mile_carrier": "{carrier}",
    "party.short.customs_broker": "dem Zollagenten",
    "party.short.international_carrier": "{carrier}",
    "party.short.last_mile_courier": "{courier}",
    "party.short.shopper": "dem Zoll",
    "incoterm.DDP": "D D P, geliefert verzollt",
    "incoterm.DAP": "D A P, geliefert benannter Ort",
    "incoterm.DDU": "D D U, geliefert unverzollt",
    # units, in the dative: every duration follows "innerhalb von", "vor", "nach" or "seit"
    "unit.day": "{count} Tag",
    "unit.days": "{count} Tagen",
    "unit.hour": "{count} Stunde",
    "unit.hours": "{count} Stunden",
    "unit.day_range": "{low} bis {high} Tage",
}


class German(Speech):
    def __init__(self) -> None:
        super().__init__("de", TEMPLATES)
        self.locale = Locale.parse(LOCALES["de"])

    def number(self, value: int) -> str:
        """A count said before a noun: "ein Versuch", "drei Minuten", "hundertein"."""
        words = str(num2words(value, lang="de"))
        return words[:-1] if words.endswith("eins") else words

    def date(self, day: date) -> str:
        """ "Dienstag, den dritten November": fits after "am", "bis" and "seit" alike."""
        weekday_month = format_date(day, "EEEE|MMMM", locale=self.locale).split("|")
        ordinal = num2words(day.day, lang="de", to="ordinal") + "n"
        return f"{weekday_month[0]}, den {ordinal} {weekday_month[1]}"

    def time(self, moment: datetime) -> str:
        """ "vierzehn Uhr dreißig", "neun Uhr", "ein Uhr" (the 24-hour clock, as said aloud)."""
        hour = self.number(moment.hour) if moment.hour else "null"
        if moment.minute == 0:
            return f"{hour} Uhr"
        return f"{hour} Uhr {num2words(moment.minute, lang='de')}"

    def money(self, amount: Decimal, currency: str) -> str:
        """ "zwölf Euro fünfzig", "ein Britisches Pfund": the minor units after the currency."""
        major = int(amount)
        minor = int((amount - major) * 100)
        name = get_currency_name(currency, count=major, locale=self.locale)
        spoken = f"{self.number(major) if major else 'null'} {name}"
        return spoken + (f" {num2words(minor, lang='de')}" if minor else "")

    def days(self, count: int) -> str:
        """Dative ("innerhalb von einem Tag", "vor vierzehn Tagen"): see ``unit.*``."""
        word = "einem" if count == 1 else self.number(count)
        return self.say("unit.day" if count == 1 else "unit.days", count=word)

    def hours(self, count: int) -> str:
        word = "einer" if count == 1 else self.number(count)
        return self.say("unit.hour" if count == 1 else "unit.hours", count=word)
