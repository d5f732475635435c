"""Spanish replies (Spain's Spanish, "usted"): every sentence the agent says, and Spanish spoken
forms.

The keys and fields are English's (en.py): one template is one sentence, short openers
(``ack.*``) first. Numbers are said in words that agree with their noun ("una hora", "veintiún
días"); dates as "el martes tres de noviembre", times as "las cuatro de la tarde" (the article
belongs to the time: templates say "antes de {time}"), money as "doce euros con cincuenta".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import get_currency_name
from num2words import num2words

from voice_agent.dialogue.replies.agreement import AgreeingSpeech, last_word

TEMPLATES: dict[str, str] = {
    # short openers: the first chunk of a reply (at most ~6 words)
    "ack.hello": "Hola, gracias por llamar.",
    "ack.got_it": "Entendido.",
    "ack.thanks": "Gracias.",
    "ack.sure": "Claro.",
    "ack.of_course": "Por supuesto.",
    "ack.all_right": "De acuerdo.",
    "ack.sorry": "Lo siento.",
    "ack.sorry_unclear": "Perdone, no le he entendido.",
    "ack.done": "Hecho.",
    "ack.latest": "Le cuento lo último.",
    "ack.checking": "Gracias, ya lo he comprobado.",
    "ack.verified": "Gracias, los datos coinciden.",
    "ack.good_news": "Buenas noticias.",
    "ack.bye": "Gracias por su llamada.",
    "ack.welcome": "De nada.",
    "ack.no_problem": "No hay problema.",
    "ack.frustrated": "Lo siento, le entiendo.",
    "ack.slower": "Claro, más despacio.",
    # general
    "greeting.ask": "¿En qué puedo ayudarle con su pedido?",
    "general.ask_again": "¿Podría repetirlo, por favor?",
    "general.anything_else": "¿Puedo ayudarle en algo más?",
    # outbound calls (dialogue/purpose.py)
    "outbound.opening": "Hola, le llamamos de {shop} por su reclamación.",
    "outbound.opening_return": "Hola, le llamamos de {shop} por su devolución.",
    "outbound.return.refunded": (
        "Su devolución {reference} ha sido reembolsada, con el mismo medio de pago. La "
        "tienda le enviará el comprobante por correo electrónico."
    ),
    "outbound.verify_first": (
        "Antes de darle detalles, necesito comprobar que hablo con la persona correcta."
    ),
    "outbound.claim.accepted": (
        "Su reclamación {reference} ha sido aceptada. La tienda le enviará los siguientes "
        "pasos por correo electrónico."
    ),
    "outbound.claim.rejected": (
        "Lo siento, su reclamación {reference} ha sido rechazada. La tienda le enviará los "
        "motivos por correo electrónico."
    ),
    "outbound.machine.callback": "Por favor, devuélvanos la llamada cuando le venga bien.",
    "outbound.machine.callback_number": "Por favor, devuélvanos la llamada al {number}.",
    "outbound.machine.goodbye": "Gracias, adiós.",
    "general.what_else": "¿En qué puedo ayudarle?",
    "general.goodbye": "¡Adiós!",
    "recording.notice": (
        "Esta llamada se graba para poder revisar cómo le hemos atendido. "
        "Si prefiere que no se grabe, dígamelo."
    ),
    "recording.stopped": "De acuerdo, esta llamada no se grabará.",
    "recording.carry_on": "¿En qué puedo ayudarle?",
    "general.yes_or_no": "Por favor, diga sí o no.",
    # said by the call session itself
    "session.reprompt": "¿Sigue ahí? ¿En qué puedo ayudarle?",
    "session.silence_goodbye": "No le oigo, así que voy a terminar la llamada. Adiós.",
    "session.time_limit_goodbye": (
        "Hemos llegado al tiempo máximo de esta llamada. Gracias, adiós."
    ),
    # a caller speaking a language the line does not offer
    "language.unsupported": "En esta línea solo puedo atenderle en {languages}.",
    "language.offer_person": (
        "Puedo pedir que una persona le devuelva la llamada. ¿Le parece bien?"
    ),
    "scope.cannot": "Me temo que con eso no puedo ayudarle.",
    "scope.offer": (
        "Puedo ayudarle con pedidos, entregas, devoluciones, aranceles, cambios de dirección "
        "y productos."
    ),
    "scope.person": "¿O prefiere que una persona le devuelva la llamada?",
    "repeat.nothing": "Todavía no he dicho nada.",
    "goals.after_verify": "Lo veremos en cuanto haya confirmado que es usted.",
    "frustrated.offer": "Si lo prefiere, puedo pedir que una persona le llame primero.",
    "frustrated.offer_ask": "¿Le parece bien?",
    "frustrated.or_tell": "O cuénteme qué ha pasado y lo compruebo ahora mismo.",
    # verification
    "verify.ask_number": "¿Cuál es su número de pedido?",
    "verify.how_number": "Puede decirlo cifra a cifra o marcarlo en el teclado.",
    "verify.number_unclear": "No he recibido un número de pedido completo.",
    "verify.number_length": "Los números de pedido tienen {digits} dígitos.",
    "verify.read_back": "Pedido {number}.",
    "verify.ask_factor": "Para confirmar que es usted, dígame {factors}.",
    "verify.factor.postcode": "el código postal",
    "verify.factor.email_prefix": "las primeras {letters} letras del correo electrónico",
    "verify.factor.phone_last4": "los últimos {digits} dígitos del número de teléfono",
    "verify.factor_unclear": "No lo he entendido.",
    "verify.no_match": "Eso no coincide con nuestros datos del pedido {number}.",
    "verify.attempts_left": "Puede intentarlo {count} vez más.",
    "verify.attempts_left_many": "Puede intentarlo {count} veces más.",
    "verify.locked_now": (
        "Por su seguridad, el pedido {number} queda bloqueado durante {duration}."
    ),
    "verify.locked": "Por su seguridad, el pedido {number} está bloqueado hasta {time}.",
    "verify.heard": "He entendido {value}.",
    "verify.is_that_right": "¿Es correcto?",
    "verify.heard_wrong": "Perdone, ha sido un error mío.",
    "verify.keypad": "También puede marcarlo en el teclado y pulsar almohadilla.",
    "verify.minutes": "{count} minutos",
    "verify.hours": "{count} horas",
    "verify.one_hour": "una hora",
    "verify.offer_person": "Puedo pedir que una persona le devuelva la llamada. ¿Le parece bien?",
    "verify.what_now": "¿En qué puedo ayudarle con este pedido?",
    "verify.too_many_unclear": "Me está costando entender los datos.",
    # order status
    "status.not_dispatched": "Su pedido todavía no se ha enviado.",
    "status.placed": "Se realizó el {date} y lo estamos preparando.",
    "status.event": "El {date}, en {place}: {text}.",
    "status.holder.pickup": "Está en la recogida nacional, con {carrier}.",
    "status.holder.export_customs": "Está pasando la aduana de exportación.",
    "status.holder.international": "Está en tránsito internacional, con {carrier}.",
    "status.holder.import_customs": "Está en la aduana de importación de {country}.",
    "status.holder.last_mile": "Ahora lo tiene {courier} para la entrega.",
    "status.delivered": "Se entregó el {date}.",
    "status.window": "Lo esperamos entre el {start} y el {end}.",
    "status.window_by": "Lo esperamos como muy tarde el {date}.",
    "status.late": "Lo esperábamos como muy tarde el {date}, así que va con retraso.",
    "status.late_claim": "Si se ha perdido, puedo comprobarlo y abrir una reclamación.",
    # lost parcel
    "lost.not_dispatched": "Su pedido todavía no se ha enviado, así que no puede haberse perdido.",
    "lost.last_scan": "El último escaneo fue hace {age}, el {date}, en {stage}.",
    "lost.scan_text": "Dice: {text}.",
    "lost.delivered": "Según nuestro seguimiento, se entregó el {date}, en {place}.",
    "lost.not_yet": (
        "En {stage}, damos un paquete por perdido tras {days} sin escaneos, así que lo más "
        "probable es que siga en camino."
    ),
    "lost.call_back_on": (
        "Si para el {date} no hay novedades, llámenos y abriremos una reclamación."
    ),
    "lost.presumed": "Tras {days} sin escaneos en esta etapa, lo damos por perdido.",
    "lost.delivered_missing": (
        "Un paquete que figura como entregado pero no se ha recibido se trata como perdido."
    ),
    "lost.responsible": "El responsable es {party}.",
    "lost.held": "Ya tenemos {evidence}.",
    "lost.held_nothing": "Todavía no tenemos pruebas de esta etapa.",
    "lost.missing": "Todavía necesitamos {evidence}, que solicitaremos.",
    "lost.missing_nothing": "No hace falta nada más.",
    "lost.confirm": "¿Abro una reclamación?",
    "lost.existing": "Ya hay una reclamación abierta para este pedido, con referencia {reference}.",
    "lost.existing_by": "Le responderemos como muy tarde el {date}.",
    "claim.opened": "Su reclamación está abierta.",
    "claim.reference": "Su referencia es {reference}.",
    "claim.reference_again": "Se lo repito: {reference}.",
    "claim.outcome.reship_or_refund": (
        "Su pedido está asegurado, así que se lo volveremos a enviar o le devolveremos el "
        "dinero como muy tarde el {date}."
    ),
    "claim.outcome.investigation": (
        "Lo investigaremos con {party} y le daremos una respuesta como muy tarde el {date}."
    ),
    "claim.outcome.release_guidance": (
        "Le enviaremos los documentos que pide la aduana como muy tarde el {date}, para que "
        "pueda liberarlo."
    ),
    "claim.declined": "De acuerdo, sin reclamación.",
    # hand-off
    "handoff.created": "Un compañero le llamará el {date}, antes de {time}.",
    "handoff.created_today": "Un compañero le llamará hoy, antes de {time}.",
    "handoff.zone_time": "{time}, hora de {city}",
    "handoff.reference": "Su referencia es {reference}.",
    "handoff.transfer": "Le paso ahora con un compañero. Su referencia es {reference}.",
    "handoff.declined": "No hay problema.",
    "handoff.quote_reference": "Si vuelve a llamarnos, indique esta referencia, por favor.",
    # where to call back
    "callback.offer_caller": (
        "¿Le llamamos al número desde el que llama, que termina en {digits}?"
    ),
    "callback.offer_order_phone": ("¿Le llamamos al número de su pedido, que termina en {digits}?"),
    "callback.offer_order_email": "¿Le respondemos al correo electrónico de su pedido?",
    "callback.ask": "¿En qué teléfono o correo electrónico podemos localizarle?",
    "callback.read_back": "Es {contact}.",
    "callback.unclear": "No he entendido ningún teléfono ni correo electrónico.",
    "callback.unclear_yes_no": "Por favor, diga sí, o dígame el correcto.",
    "callback.ask_again": "Por favor, repita el número o el correo electrónico.",
    "callback.or_none": "O diga no, si prefiere no darnos ninguno.",
    "callback.order_details": "El equipo verá su llamada con los datos de su pedido.",
    "callback.no_contact": (
        "Sin un número no podemos devolverle la llamada, pero el equipo verá su llamada."
    ),
    "callback.plus": "más {digits}",
    "callback.email": "{local} arroba {domain}",
    "symbol.dot": "punto",
    "symbol.underscore": "guion bajo",
    "symbol.dash": "guion",
    "symbol.plus": "más",
    # overdue, whatever was asked
    "overdue.said": "Su paquete va con retraso: lleva {age} sin escaneos, desde el {date}.",
    "overdue.rule": "En {stage}, damos un paquete por perdido tras {days} sin escaneos.",
    # tracking number and carrier
    "tracking.number": "El número de seguimiento es {number}.",
    "tracking.carrier": "Lo transporta {carrier} y lo entrega {courier}.",
    "tracking.carrier_only": "Lo transporta {carrier}.",
    "tracking.offer_link": "¿Quiere que la tienda le envíe el enlace de seguimiento por correo?",
    "tracking.none": (
        "Todavía no tiene número de seguimiento: aún no se ha entregado a ningún transportista."
    ),
    # where it was left; delivered but not received
    "where.delivered": "Se entregó el {date}, en {place}.",
    "where.left": "El escaneo de entrega dice: {text}.",
    "where.no_detail": "El escaneo de entrega no indica dónde se dejó.",
    "where.if_missing": "Si no lo encuentra, puedo abrir una reclamación.",
    "where.check_first": "Por favor, compruebe primero allí.",
    "where.not_delivered": "Todavía no se ha entregado.",
    # damaged, wrong or missing item
    "item.sorry.damaged_item": "No debería haber llegado dañado.",
    "item.sorry.wrong_item": "Debería haber recibido lo que pidió.",
    "item.sorry.missing_item": "Todo lo que pidió debería haber venido en el paquete.",
    "item.claim.damaged_item": "Puedo abrir una reclamación por el artículo dañado.",
    "item.claim.wrong_item": "Puedo abrir una reclamación por el artículo equivocado.",
    "item.claim.missing_item": "Puedo abrir una reclamación por el artículo que falta.",
    "item.photos": "La tienda le pedirá {evidence}.",
    "item.outcome": (
        "En cuanto la tienda las tenga, recibirá un reemplazo o un reembolso en un plazo de {days}."
    ),
    "item.confirm": "¿Abro la reclamación?",
    "item.existing": "Ya hay una reclamación abierta por esto, con referencia {reference}.",
    "claim.photos_needed": "La tienda se pondrá en contacto con usted para pedirle las fotos.",
    "claim.outcome.replace_or_refund": (
        "Recibirá un reemplazo o un reembolso como muy tarde el {date}, cuando la tienda "
        "tenga las fotos."
    ),
    # refund status (the shop's records)
    "refund.paid": (
        "Su reembolso de {amount} se pagó el {date}, con el mismo método de pago que usó."
    ),
    "refund.approved": "Su reembolso de {amount} se aprobó el {date}, y aún no se ha pagado.",
    "refund.pending": "Su reembolso de {amount} está en trámite desde el {date}.",
    "refund.refused": "Su reembolso se rechazó el {date}.",
    "refund.offer_person": "Una persona puede explicarle el motivo. ¿Le parece bien?",
    "refund.received": "Recibimos su devolución el {date}.",
    "refund.due": (
        "Reembolsamos en un plazo de {days} desde la recepción, así que como muy tarde el {date}."
    ),
    "refund.return_registered": (
        "Su devolución se registró el {date}, y todavía no la hemos recibido."
    ),
    "refund.after_receipt": "Reembolsamos en un plazo de {days} desde que recibimos los artículos.",
    "refund.request_open": "Su solicitud de devolución, con referencia {reference}, está abierta.",
    "refund.nothing": "No encuentro ninguna devolución ni reembolso para este pedido.",
    "refund.how": (
        "El reembolso llega tras una devolución; si quiere, puedo abrir una solicitud de "
        "devolución."
    ),
    # cancellation
    "cancel.can_ask": (
        "Su pedido todavía no se ha enviado, así que puedo pedir a la tienda que lo cancele."
    ),
    "cancel.not_done": "Quedará cancelado cuando la tienda lo confirme.",
    "cancel.confirm": "¿Envío la solicitud de cancelación?",
    "cancel.dispatched": "Su pedido ya se ha enviado, así que ahora no se puede cancelar.",
    "cancel.return_path": "Cuando llegue, puede devolverlo en un plazo de {days} desde la entrega.",
    "cancel.return_instead": "Como ya se ha entregado, puede devolverlo.",
    "cancel.existing": "Ya hay una solicitud de cancelación, con referencia {reference}.",
    # requests recorded for the shop
    "request.recorded.cancellation": "He enviado su solicitud de cancelación a la tienda.",
    "request.recorded.invoice": "He pedido a la tienda que le envíe la factura por correo.",
    "request.recorded.duplicate_charge": (
        "He pedido al equipo de la tienda que revise el cobro duplicado."
    ),
    "request.recorded.complaint": "He registrado su queja para el equipo de la tienda.",
    "request.recorded.tracking_link": (
        "He pedido a la tienda que le envíe el enlace de seguimiento por correo."
    ),
    "request.reply_by": "Le responderán como muy tarde el {date}.",
    "request.declined": "De acuerdo, no envío nada.",
    "charge.cannot_see": "Yo no puedo ver los pagos.",
    "complaint.heard": "Gracias por comunicárnoslo.",
    # delivery times before buying
    "delivery_time.country": "El envío a {country} tarda {value} para la mayoría de los artículos.",
    "delivery_time.default": "El envío suele tardar {value}; dígame el país y le concreto más.",
    "delivery_time.others": "Algunos artículos llegan antes: {products}.",
    "delivery_time.unknown": "No tengo los plazos de entrega de eso.",
    # no order number at hand
    "lookup.by_phone": "Puedo buscarlo por el número desde el que llama.",
    "lookup.ask_email": "¿Con qué correo electrónico hizo el pedido?",
    "lookup.spell": "Puede deletrearlo letra a letra.",
    "lookup.email_unclear": "No he entendido ningún correo electrónico.",
    "lookup.email_read_back": "Es {email}.",
    "lookup.phone_read_back": "Es {phone}.",
    "lookup.ask_factor": "Para encontrar su pedido, dígame {factors}.",
    "lookup.found": "He encontrado su pedido, el número {number}.",
    "lookup.no_match": "Eso no coincide con mis datos.",
    "lookup.locked": "Por su seguridad, ahora mismo no puedo volver a buscarlo.",
    "lookup.locked_now": (
        "Por su seguridad, no puedo volver a buscarlo hasta dentro de {minutes} minutos."
    ),
    # returns
    "return.not_delivered": "Su pedido todavía no se ha entregado.",
    "return.window_rule": "Puede devolver artículos en un plazo de {days} desde la entrega.",
    "return.expired": (
        "Se entregó el {date}, y el plazo de devolución de {days} terminó el {end}."
    ),
    "return.offer_person": "Puedo pedir a una persona que lo revise. ¿Le parece bien?",
    "return.until": "Se entregó el {date}, así que puede devolverlo hasta el {end}.",
    "return.shipping.seller": "El envío de la devolución es gratuito.",
    "return.shipping.shopper": "El envío de la devolución corre de su cuenta.",
    "return.refund": "Reembolsamos en un plazo de {days} desde que recibimos los artículos.",
    "return.refund_amount": (
        "Le reembolsamos lo que pagó, {amount}, en un plazo de {days} desde la recepción."
    ),
    "return.confirm": "¿Abro una solicitud de devolución?",
    "return.opened": "Su solicitud de devolución está abierta.",
    "return.existing": (
        "Ya hay una solicitud de devolución para este pedido, con referencia {reference}."
    ),
    "return.declined": "De acuerdo, sin solicitud de devolución.",
    # duties and taxes
    "duties.seller": (
        "Su pedido se envió en condiciones {incoterm}, así que el vendedor paga los aranceles "
        "e impuestos de importación."
    ),
    "duties.seller_nothing": "No tiene que pagar nada en la entrega.",
    "duties.shopper": (
        "Su pedido se envió en condiciones {incoterm}, así que los aranceles e impuestos de "
        "importación los paga usted, como destinatario."
    ),
    "duties.shopper_how": "El mensajero o la aduana se los pedirán antes de la entrega.",
    "duties.held": "Su paquete está en la aduana de importación desde el {date}.",
    "duties.held_text": "El último escaneo dice: {text}.",
    "duties.documents": "Puede que la aduana le pida {documents}.",
    "duties.seller_documents": "Eso nos corresponde a nosotros, y ya nos estamos ocupando.",
    # address change
    "address.can_change": (
        "Su pedido todavía no se ha enviado, así que puedo cambiar la dirección."
    ),
    "address.ask": "¿Cuál es la nueva dirección, con el código postal?",
    "address.no_postcode": "No he oído ningún código postal.",
    "address.ask_again": "Por favor, dígame la nueva dirección completa, con el código postal.",
    "address.read_back": "La nueva dirección es {address}, código postal {postcode}.",
    "address.confirm": "¿La cambio?",
    "address.changed": "He cambiado la dirección de entrega.",
    "address.declined": "La dirección se queda como está.",
    "address.dispatched": (
        "Su paquete ya se ha enviado, así que no puedo cambiar la dirección desde aquí."
    ),
    "address.options": "Puede {options}.",
    "address.offer_person": "¿Quiere que una persona le ayude con eso?",
    # products
    "product.which": "¿De qué producto se trata?",
    "product.not_found": "No he encontrado ese producto en nuestro catálogo.",
    "product.say_name": "¿Podría decirme su nombre?",
    "product.fact": "{product}: {attribute}, {value}.",
    "product.fact_more": "{attribute}, {value}.",
    "product.ship_time": "El envío de {product} a {country} tarda {value}.",
    "product.ship_time_default": "El envío de {product} suele tardar {value}.",
    "product.unknown": "No tengo ese dato sobre {product}.",
    "product.known": "Puedo darle estos datos: {attributes}.",
    "product.offer_person": "O una persona puede averiguarlo por usted. ¿Le parece bien?",
    "product.what": "¿Qué le gustaría saber sobre {product}?",
    # product attributes the catalogue names (another shop's own names are said as they are)
    "attribute.age": "edad",
    "attribute.battery": "batería",
    "attribute.bluetooth": "bluetooth",
    "attribute.cabin": "equipaje de cabina",
    "attribute.capacity": "capacidad",
    "attribute.care": "cuidados",
    "attribute.colour": "color",
    "attribute.colours": "colores",
    "attribute.compatibility": "compatibilidad",
    "attribute.control": "control",
    "attribute.data": "datos",
    "attribute.fit": "ajuste",
    "attribute.height": "altura",
    "attribute.laptop": "portátil",
    "attribute.length": "longitud",
    "attribute.material": "material",
    "attribute.memory": "memoria",
    "attribute.night_vision": "visión nocturna",
    "attribute.note": "nota",
    "attribute.output": "salida",
    "attribute.pieces": "piezas",
    "attribute.plug": "enchufe",
    "attribute.power": "alimentación",
    "attribute.remote": "mando a distancia",
    "attribute.resolution": "resolución",
    "attribute.safety": "seguridad",
    "attribute.size": "tamaño",
    "attribute.size_guide": "guía de tallas",
    "attribute.sizes": "tallas",
    "attribute.voltage": "voltaje",
    "attribute.water_resistance": "resistencia al agua",
    "attribute.weight": "peso",
    "attribute.wireless_charging": "carga inalámbrica",
    # stages and parties, as spoken inside sentences
    "stage.pickup": "la recogida nacional",
    "stage.export_customs": "la aduana de exportación",
    "stage.international": "el transporte internacional",
    "stage.import_customs": "la aduana de importación",
    "stage.last_mile": "la entrega de última milla",
    "party.seller": "el vendedor, es decir, nosotros",
    "party.first_mile_carrier": "el transportista de primera milla, {carrier}",
    "party.customs_broker": "el agente de aduanas",
    "party.international_carrier": "el transportista internacional, {carrier}",
    "party.last_mile_courier": "el mensajero de la entrega, {courier}",
    "party.shopper": "usted, como importador",
    "party.short.seller": "nuestro equipo de almacén",
    "party.short.first_mile_carrier": "{carrier}",
    "party.short.customs_broker": "el agente de aduanas",
    "party.short.international_carrier": "{carrier}",
    "party.short.last_mile_courier": "{courier}",
    "party.short.shopper": "la aduana",
    "incoterm.DDP": "D D P, entrega con derechos pagados",
    "incoterm.DAP": "D A P, entrega en el lugar convenido",
    "incoterm.DDU": "D D U, entrega con derechos no pagados",
    # units
    "unit.day": "{count} día",
    "unit.days": "{count} días",
    "unit.hour": "{count} hora",
    "unit.hours": "{count} horas",
    "unit.day_range": "de {low} a {high} días",
}

_LETTERS = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "efe", "G": "ge", "H": "hache",
    "I": "i", "J": "jota", "K": "ka", "L": "ele", "M": "eme", "N": "ene", "Ñ": "eñe", "O": "o",
    "P": "pe", "Q": "cu", "R": "erre", "S": "ese", "T": "te", "U": "u", "V": "uve",
    "W": "uve doble", "X": "equis", "Y": "i griega", "Z": "zeta",
}  # fmt: skip
"""Letter names: a lone capital is read as a word by the synthesizer ("Y" as "and")."""

_COUNTRY_ARTICLES = {
    "Reino Unido": "el", "Países Bajos": "los", "Emiratos Árabes Unidos": "los",
    "República Dominicana": "la", "República Centroafricana": "la", "India": "la",
    "Líbano": "el", "Yemen": "el", "Bahamas": "las",
}  # fmt: skip
"""Country names said with their article ("al Reino Unido", "en la India")."""

_COUNTRY_NAMES = {"HK": "Hong Kong", "MO": "Macao"}
"""Shorter names than Babel's "RAE de Hong Kong (China)"."""

_MILLIONS = re.compile(r"\b(?:millón|millones|billón|billones)\b")

_FEMININE = frozenset(
    {"hora", "horas", "letra", "letras", "vez", "veces", "semana", "semanas", "cifra", "cifras"}
)


class Spanish(AgreeingSpeech):
    feminine_nouns = _FEMININE
    function_words = frozenset({"a", "y", "e", "o", "u", "de", "en", "con", "por", "para"})

    def __init__(self) -> None:
        super().__init__("es", "es_ES", TEMPLATES)

    def cardinal(self, value: int, feminine: bool | None) -> str:
        """ "uno" alone, "un día" / "veintiún días", "una hora" / "doscientas horas"."""
        words = _before_mil(str(num2words(value, lang="es")))
        if feminine:
            # Only below the millions: "doscientas mil horas", "dos millones de horas".
            cut = max((found.end() for found in _MILLIONS.finditer(words)), default=0)
            tail = re.sub(r"ientos\b", "ientas", re.sub(r"uno\b", "una", words[cut:]))
            return words[:cut] + tail
        if feminine is False:
            return re.sub(r"\buno$", "un", re.sub(r"veintiuno$", "veintiún", words))
        return words

    def merge(self, before: str, value: str) -> tuple[str, str]:
        """ "a el" -> "al", "de el" -> "del" (only the article: "de El Salvador" stays)."""
        preposition = last_word(before)
        if preposition is None or not value.startswith("el "):
            return before, value
        word = preposition.group(1)
        if word.lower() not in ("a", "de"):
            return before, value
        merged = "al" if word.lower() == "a" else "del"
        merged = merged.capitalize() if word[0].isupper() else merged
        return before[: preposition.start(1)] + merged + " ", value[3:]

    def say(self, key: str, **values: object) -> str:
        if isinstance(values.get("place"), str):
            values["place"] = _without_article(str(values["place"]))
        return super().say(key, **values)

    def letter(self, ch: str) -> str:
        return _LETTERS.get(ch.upper(), ch.upper())

    def date(self, day: date) -> str:
        """ "martes tres de noviembre": after "el" in the templates ("el martes ...")."""
        weekday = format_date(day, "EEEE", locale=self.locale)
        month = format_date(day, "MMMM", locale=self.locale)
        return f"{weekday} {self.cardinal(day.day, None)} de {month}"

    def time(self, moment: datetime) -> str:
        """ "las cuatro de la tarde", "la una y media de la tarde", "las nueve y cuarto de la
        mañana": with its article, as Spanish says a time ("antes de las cuatro")."""
        hour = moment.hour % 12 or 12
        article = "la" if hour == 1 else "las"
        minutes = {0: "", 15: " y cuarto", 30: " y media"}.get(
            moment.minute, f" y {self.cardinal(moment.minute, None)}"
        )
        return f"{article} {self.cardinal(hour, True)}{minutes} {_part_of_day(moment.hour)}"

    def money(self, amount: Decimal, currency: str) -> str:
        """ "doce euros con cincuenta", "una libra esterlina", "cincuenta céntimos"."""
        major = int(amount)
        minor = int((amount - major) * 100)
        if major == 0 and minor:
            cents = "céntimos" if currency == "EUR" else "centavos"
            return f"{self.cardinal(minor, False)} {cents}"
        name = get_currency_name(currency, count=major, locale=self.locale).lower()
        one = get_currency_name(currency, count=1, locale=self.locale).lower()
        words = self.cardinal(major, one.split()[0].endswith("a"))  # "una libra", "un euro"
        if words.endswith(("millón", "millones")):
            name = f"de {name}"
        if not minor:
            return f"{words} {name}"
        cents = "un céntimo" if minor == 1 else self.cardinal(minor, None)
        return f"{words} {name} con {cents}"

    def join(self, items: Sequence[str]) -> str:
        """ "a, b y c"; "e" before an /i/ sound ("agua e hielo")."""
        return _listed(items, "e" if _sounds(items, ("i", "hi"), ("hie", "hia")) else "y")

    def join_or(self, items: Sequence[str]) -> str:
        """ "a, b o c"; "u" before an /o/ sound ("siete u ocho")."""
        return _listed(items, "u" if _sounds(items, ("o", "ho"), ()) else "o")

    def country(self, code: str) -> str:
        name = _COUNTRY_NAMES.get(code.upper()) or super().country(code)
        article = _COUNTRY_ARTICLES.get(name)
        return f"{article} {name}" if article else name


def _before_mil(words: str) -> str:
    """ "doscientos uno mil" (num2words) -> "doscientos un mil"."""
    return re.sub(r"\buno mil\b", "un mil", re.sub(r"veintiuno mil\b", "veintiún mil", words))


def _part_of_day(hour: int) -> str:
    if hour == 0 or hour >= 21:
        return "de la noche"
    if hour < 6:
        return "de la madrugada"
    if hour < 12:
        return "de la mañana"
    if hour < 13:
        return "del mediodía"
    return "de la tarde"


def _listed(items: Sequence[str], conjunction: str) -> str:
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _sounds(items: Sequence[str], starts: tuple[str, ...], unless: tuple[str, ...]) -> bool:
    """Whether the last item starts with one of ``starts`` (a sound the conjunction would
    swallow), and not with one of ``unless`` (a diphthong: "agua y hielo")."""
    if len(items) < 2:
        return False
    last = items[-1].lower()
    return last.startswith(starts) and not last.startswith(unless)


def _without_article(place: str) -> str:
    """ "Londres, el Reino Unido" -> "Londres, Reino Unido": a place names its country bare."""
    return re.sub(r",\s+(?:el|la|los|las)\s+", ", ", place)
