"""English replies: every sentence the agent says, and English spoken forms.

One template is one sentence (one chunk of a reply). Short openers (``ack.*``) come first so the
first audio is fast; the details follow. Fields in braces are filled by the engine with spoken
forms (digits read one by one, dates as dates, money with its currency).
"""

from __future__ import annotations

from datetime import date

from num2words import num2words

from voice_agent.dialogue.replies import Speech

TEMPLATES: dict[str, str] = {
    # short openers: the first chunk of a reply (at most ~6 words)
    "ack.hello": "Hello, thanks for calling.",
    "ack.got_it": "Got it.",
    "ack.thanks": "Thanks.",
    "ack.sure": "Sure.",
    "ack.of_course": "Of course.",
    "ack.all_right": "All right.",
    "ack.sorry": "I'm sorry.",
    "ack.sorry_unclear": "Sorry, I didn't catch that.",
    "ack.done": "Done.",
    "ack.latest": "Here's the latest.",
    "ack.checking": "Thanks, I've checked.",
    "ack.verified": "Thank you, that matches.",
    "ack.good_news": "Good news.",
    "ack.bye": "Thank you for calling.",
    "ack.welcome": "You're welcome.",
    "ack.no_problem": "No problem.",
    "ack.frustrated": "I'm sorry, I understand.",
    "ack.slower": "Of course, more slowly.",
    # general
    "greeting.ask": "How can I help with your order today?",
    "general.ask_again": "Could you say that again?",
    "general.anything_else": "Is there anything else I can help with?",
    # outbound calls (dialogue/purpose.py)
    "outbound.opening": "Hello, this is {shop} calling about your claim.",
    "outbound.opening_return": "Hello, this is {shop} calling about your return.",
    "outbound.return.refunded": (
        "Your return {reference} has been refunded, to the way you paid. The shop will "
        "e-mail you the receipt."
    ),
    "outbound.verify_first": (
        "Before I give you any details, I need to make sure I'm speaking with the right person."
    ),
    "outbound.claim.accepted": (
        "Your claim {reference} has been accepted. The shop will e-mail you the next steps."
    ),
    "outbound.claim.rejected": (
        "I'm sorry, your claim {reference} has been declined. The shop will e-mail you the reasons."
    ),
    "outbound.machine.callback": "Please call us back when it suits you.",
    "outbound.machine.callback_number": "Please call us back on {number}.",
    "outbound.machine.goodbye": "Thank you, goodbye.",
    "general.what_else": "What can I help you with?",
    "general.goodbye": "Goodbye!",
    "recording.notice": (
        "This call is recorded so we can check how we did. If you'd rather it wasn't, just say so."
    ),
    "recording.stopped": "All right, this call won't be recorded.",
    "recording.carry_on": "How can I help?",
    "general.yes_or_no": "Please say yes or no.",
    # said by the call session itself
    "session.reprompt": "Are you still there? How can I help?",
    "session.silence_goodbye": "I can't hear anything, so I'll end the call now. Goodbye.",
    "session.time_limit_goodbye": (
        "We've reached the time limit for this call. Thank you, goodbye."
    ),
    # a caller speaking a language the line does not offer
    "language.unsupported": "I can only help in {languages} on this line.",
    "language.offer_person": "I can ask a person to call you back. Would you like that?",
    "scope.cannot": "I can't help with that, I'm afraid.",
    "scope.offer": (
        "I can help with orders, deliveries, returns, duties, address changes and products."
    ),
    "scope.person": "Or would you like a person to call you back?",
    "repeat.nothing": "I haven't said anything yet.",
    "goals.after_verify": "I'll come to that once I've confirmed it's you.",
    "frustrated.offer": "If you'd rather, I can have a person call you back first.",
    "frustrated.offer_ask": "Would you like that?",
    "frustrated.or_tell": "Or tell me what happened, and I'll check it now.",
    # verification
    "verify.ask_number": "What's your order number?",
    "verify.how_number": "You can say it digit by digit, or type it on your keypad.",
    "verify.number_unclear": "I didn't get a complete order number.",
    "verify.number_length": "Order numbers have {digits} digits.",
    "verify.read_back": "Order {number}.",
    "verify.ask_factor": "To confirm it's you, please tell me {factors}.",
    "verify.factor.postcode": "the postcode",
    "verify.factor.email_prefix": "the first {letters} letters of the e-mail address",
    "verify.factor.phone_last4": "the last {digits} digits of the phone number",
    "verify.factor_unclear": "I didn't get that.",
    "verify.no_match": "That doesn't match our records for order {number}.",
    "verify.attempts_left": "You can try {count} more time.",
    "verify.attempts_left_many": "You can try {count} more times.",
    "verify.locked_now": "For your security, order {number} is now locked for {duration}.",
    "verify.locked": "For your security, order {number} is locked until {time}.",
    "verify.heard": "I heard {value}.",
    "verify.is_that_right": "Is that right?",
    "verify.heard_wrong": "Sorry, my mistake.",
    "verify.keypad": "You can also type it on your keypad, then press hash.",
    "verify.minutes": "{count} minutes",
    "verify.hours": "{count} hours",
    "verify.one_hour": "1 hour",
    "verify.offer_person": "I can ask a person to call you back. Would you like that?",
    "verify.what_now": "How can I help with this order?",
    "verify.too_many_unclear": "I'm having trouble understanding the details.",
    # order status
    "status.not_dispatched": "Your order hasn't been dispatched yet.",
    "status.placed": "It was placed on {date}, and we're preparing it.",
    "status.event": "On {date}, in {place}: {text}.",
    "status.holder.pickup": "It's in domestic pickup, with {carrier}.",
    "status.holder.export_customs": "It's going through export customs.",
    "status.holder.international": "It's in international transit, with {carrier}.",
    "status.holder.import_customs": "It's at import customs in {country}.",
    "status.holder.last_mile": "It's now with {courier} for delivery.",
    "status.delivered": "It was delivered on {date}.",
    "status.window": "We expect it between {start} and {end}.",
    "status.window_by": "We expect it by {date}.",
    "status.late": "It was expected by {date}, so it's running late.",
    "status.late_claim": "If it's lost, I can check that for you and open a claim.",
    # lost parcel
    "lost.not_dispatched": "Your order hasn't been dispatched yet, so it can't be lost.",
    "lost.last_scan": "The last scan was {age} ago, on {date}, at {stage}.",
    "lost.scan_text": "It reads: {text}.",
    "lost.delivered": "Our tracking says it was delivered on {date}, in {place}.",
    "lost.not_yet": (
        "At {stage}, we count a parcel as lost after {days} without a scan, so it's most "
        "likely still on its way."
    ),
    "lost.call_back_on": "If there's no news by {date}, call us and we'll open a claim.",
    "lost.presumed": "After {days} without a scan at this stage, we treat it as lost.",
    "lost.delivered_missing": "A parcel marked delivered but not received is handled as lost.",
    "lost.responsible": "The party responsible is {party}.",
    "lost.held": "We already hold {evidence}.",
    "lost.held_nothing": "We hold no evidence for this stage yet.",
    "lost.missing": "Still needed: {evidence}, which we'll request.",
    "lost.missing_nothing": "Nothing else is needed.",
    "lost.confirm": "Shall I open a claim?",
    "lost.existing": "There's already a claim open for this order, reference {reference}.",
    "lost.existing_by": "We'll come back to you by {date}.",
    "claim.opened": "Your claim is open.",
    "claim.reference": "Your reference is {reference}.",
    "claim.reference_again": "Again, that's {reference}.",
    "claim.outcome.reship_or_refund": (
        "Your order is insured, so we'll reship it or refund you by {date}."
    ),
    "claim.outcome.investigation": (
        "We'll investigate with {party} and give you an answer by {date}."
    ),
    "claim.outcome.release_guidance": (
        "We'll send you the documents customs needs by {date}, so you can release it."
    ),
    "claim.declined": "No claim, then.",
    # hand-off
    "handoff.created": "A colleague will call you back by {time} on {date}.",
    "handoff.created_today": "A colleague will call you back today, by {time}.",
    "handoff.zone_time": "{time} {city} time",
    "handoff.reference": "Your reference is {reference}.",
    "handoff.transfer": (
        "I'm putting you through to a colleague now. Your reference is {reference}."
    ),
    "handoff.declined": "No problem.",
    "handoff.quote_reference": "If you call us again, please give this reference.",
    # where to call back
    "callback.offer_caller": (
        "Shall we call you back on the number you're calling from, ending {digits}?"
    ),
    "callback.offer_order_phone": (
        "Shall we call you back on the number on your order, ending {digits}?"
    ),
    "callback.offer_order_email": "Shall we reply to the e-mail address on your order?",
    "callback.ask": "What's the best phone number or e-mail address to reach you?",
    "callback.read_back": "That's {contact}.",
    "callback.unclear": "I didn't get a phone number or an e-mail address.",
    "callback.unclear_yes_no": "Please say yes, or tell me the right one.",
    "callback.ask_again": "Please say the number or the e-mail address again.",
    "callback.or_none": "Or say no if you'd rather not give one.",
    "callback.order_details": "The team will see your call with your order's details.",
    "callback.no_contact": (
        "Without a number we can't call you back, but the team will see your call."
    ),
    "callback.plus": "plus {digits}",
    "callback.email": "{local} at {domain}",
    "symbol.dot": "dot",
    "symbol.underscore": "underscore",
    "symbol.dash": "dash",
    "symbol.plus": "plus",
    # overdue, whatever was asked
    "overdue.said": "Your parcel is overdue: there's been no scan for {age}, since {date}.",
    "overdue.rule": "At {stage}, we count a parcel as lost after {days} without a scan.",
    # tracking number and carrier
    "tracking.number": "The tracking number is {number}.",
    "tracking.carrier": "It's carried by {carrier}, and delivered by {courier}.",
    "tracking.carrier_only": "It's carried by {carrier}.",
    "tracking.offer_link": "Shall I ask the shop to e-mail you the tracking link?",
    "tracking.none": "It has no tracking number yet: it hasn't been handed to a carrier.",
    # where it was left; delivered but not received
    "where.delivered": "It was delivered on {date}, in {place}.",
    "where.left": "The delivery scan reads: {text}.",
    "where.no_detail": "The delivery scan doesn't say where it was left.",
    "where.if_missing": "If you can't find it, I can open a claim.",
    "where.check_first": "Please check there first.",
    "where.not_delivered": "It hasn't been delivered yet.",
    # damaged, wrong or missing item
    "item.sorry.damaged_item": "It shouldn't have arrived damaged.",
    "item.sorry.wrong_item": "You should have received what you ordered.",
    "item.sorry.missing_item": "Everything you ordered should have been in the parcel.",
    "item.claim.damaged_item": "I can open a claim for the damaged item.",
    "item.claim.wrong_item": "I can open a claim for the wrong item.",
    "item.claim.missing_item": "I can open a claim for the missing item.",
    "item.photos": "The shop will ask you for {evidence}.",
    "item.outcome": "Once it has them, you'll get a replacement or a refund within {days}.",
    "item.confirm": "Shall I open the claim?",
    "item.existing": "There's already a claim open for this, reference {reference}.",
    "claim.photos_needed": "The shop will contact you for the photos.",
    "claim.outcome.replace_or_refund": (
        "You'll get a replacement or a refund by {date}, once the shop has them."
    ),
    # refund status (the shop's records)
    "refund.paid": "Your refund of {amount} was paid on {date}, to your original payment method.",
    "refund.approved": "Your refund of {amount} was approved on {date}, and isn't paid yet.",
    "refund.pending": "Your refund of {amount} is being processed, since {date}.",
    "refund.refused": "Your refund was refused on {date}.",
    "refund.offer_person": "A person can explain why. Would you like that?",
    "refund.received": "We received your return on {date}.",
    "refund.due": "We refund within {days} of receiving it, so by {date}.",
    "refund.return_registered": (
        "Your return was registered on {date}, and we haven't received it yet."
    ),
    "refund.after_receipt": "We refund within {days} of receiving the items.",
    "refund.request_open": "Your return request, reference {reference}, is open.",
    "refund.nothing": "I can't find a return or a refund for this order.",
    "refund.how": "A refund follows a return; I can open a return request if you like.",
    # cancellation
    "cancel.can_ask": "Your order hasn't been dispatched yet, so I can ask the shop to cancel it.",
    "cancel.not_done": "It's cancelled once the shop confirms.",
    "cancel.confirm": "Shall I send the cancellation request?",
    "cancel.dispatched": "Your order has already been dispatched, so it can't be cancelled now.",
    "cancel.return_path": "Once it arrives, you can return it within {days} of delivery.",
    "cancel.return_instead": "As it's been delivered, you can return it instead.",
    "cancel.existing": "There's already a cancellation request, reference {reference}.",
    # requests recorded for the shop
    "request.recorded.cancellation": "I've sent your cancellation request to the shop.",
    "request.recorded.invoice": "I've asked the shop to e-mail you the invoice.",
    "request.recorded.duplicate_charge": "I've asked the shop's team to check the double charge.",
    "request.recorded.complaint": "I've recorded your complaint for the shop's team.",
    "request.recorded.tracking_link": "I've asked the shop to e-mail you the tracking link.",
    "request.reply_by": "They'll answer by {date}.",
    "request.declined": "Nothing sent, then.",
    "charge.cannot_see": "I can't see payments myself.",
    "complaint.heard": "Thank you for telling us.",
    # delivery times before buying
    "delivery_time.country": "Delivery to {country} takes {value} for most items.",
    "delivery_time.default": "Delivery usually takes {value}; tell me the country for more.",
    "delivery_time.others": "Some items arrive faster: the {products}.",
    "delivery_time.unknown": "I don't have delivery times for that.",
    # no order number at hand
    "lookup.by_phone": "I can look it up by the number you're calling from.",
    "lookup.ask_email": "What's the e-mail address you ordered with?",
    "lookup.spell": "You can spell it letter by letter.",
    "lookup.email_unclear": "I didn't get an e-mail address.",
    "lookup.email_read_back": "That's {email}.",
    "lookup.phone_read_back": "That's {phone}.",
    "lookup.ask_factor": "To find your order, please tell me {factors}.",
    "lookup.found": "I've found your order, number {number}.",
    "lookup.no_match": "That doesn't match what I have.",
    "lookup.locked": "For your security, I can't look it up again just now.",
    "lookup.locked_now": "For your security, I can't look it up again for {minutes} minutes.",
    # returns
    "return.not_delivered": "Your order hasn't been delivered yet.",
    "return.window_rule": "You can return items within {days} of delivery.",
    "return.expired": (
        "It was delivered on {date}, and the return window of {days} ended on {end}."
    ),
    "return.offer_person": "I can ask a person to look at it. Would you like that?",
    "return.until": "It was delivered on {date}, so you can return it until {end}.",
    "return.shipping.seller": "Return shipping is free.",
    "return.shipping.shopper": "Return shipping is paid by you.",
    "return.refund": "We refund within {days} of receiving the items.",
    "return.refund_amount": "We refund the {amount} you paid within {days} of receiving it.",
    "return.confirm": "Shall I open a return request?",
    "return.opened": "Your return request is open.",
    "return.existing": "There's already a return request for this order, reference {reference}.",
    "return.declined": "No return request, then.",
    # duties and taxes
    "duties.seller": (
        "Your order was shipped {incoterm}, so the seller pays the import duties and taxes."
    ),
    "duties.seller_nothing": "You have nothing to pay on delivery.",
    "duties.shopper": (
        "Your order was shipped {incoterm}, so import duties and taxes are paid by you, "
        "the recipient."
    ),
    "duties.shopper_how": "The courier or customs asks you for them before delivery.",
    "duties.held": "Your parcel has been at import customs since {date}.",
    "duties.held_text": "The last scan reads: {text}.",
    "duties.documents": "Customs may ask you for {documents}.",
    "duties.seller_documents": "That's for us to sort out, and we're on it.",
    # address change
    "address.can_change": "Your order hasn't been dispatched yet, so I can change the address.",
    "address.ask": "What's the new address, with the postcode?",
    "address.no_postcode": "I didn't get a postcode in that.",
    "address.ask_again": "Please say the full new address, with the postcode.",
    "address.read_back": "The new address is {address}, postcode {postcode}.",
    "address.confirm": "Shall I change it?",
    "address.changed": "The delivery address is changed.",
    "address.declined": "The address stays as it is.",
    "address.dispatched": "Your parcel has already been dispatched, so I can't change it here.",
    "address.options": "You can {options}.",
    "address.offer_person": "Would you like a person to help with that?",
    # products
    "product.which": "Which product is it about?",
    "product.not_found": "I couldn't find that product in our catalogue.",
    "product.say_name": "Could you tell me its name?",
    "product.fact": "The {product}: {attribute}, {value}.",
    "product.fact_more": "{attribute}, {value}.",
    "product.ship_time": "Shipping the {product} to {country} takes {value}.",
    "product.ship_time_default": "Shipping the {product} usually takes {value}.",
    "product.unknown": "I don't have that information for the {product}.",
    "product.known": "I can tell you its {attributes}.",
    "product.offer_person": "Or a person can find out for you. Would you like that?",
    "product.what": "What would you like to know about the {product}?",
    # product attributes the catalogue names (another shop's own names are said as they are)
    "attribute.age": "age",
    "attribute.battery": "battery",
    "attribute.bluetooth": "bluetooth",
    "attribute.cabin": "cabin",
    "attribute.capacity": "capacity",
    "attribute.care": "care",
    "attribute.colour": "colour",
    "attribute.colours": "colours",
    "attribute.compatibility": "compatibility",
    "attribute.control": "control",
    "attribute.data": "data",
    "attribute.fit": "fit",
    "attribute.height": "height",
    "attribute.laptop": "laptop",
    "attribute.length": "length",
    "attribute.material": "material",
    "attribute.memory": "memory",
    "attribute.night_vision": "night vision",
    "attribute.note": "note",
    "attribute.output": "output",
    "attribute.pieces": "pieces",
    "attribute.plug": "plug",
    "attribute.power": "power",
    "attribute.remote": "remote",
    "attribute.resolution": "resolution",
    "attribute.safety": "safety",
    "attribute.size": "size",
    "attribute.size_guide": "size guide",
    "attribute.sizes": "sizes",
    "attribute.voltage": "voltage",
    "attribute.water_resistance": "water resistance",
    "attribute.weight": "weight",
    "attribute.wireless_charging": "wireless charging",
    # stages and parties, as spoken inside sentences
    "stage.pickup": "domestic pickup",
    "stage.export_customs": "export customs",
    "stage.international": "international transport",
    "stage.import_customs": "import customs",
    "stage.last_mile": "last-mile delivery",
    "party.seller": "the seller, that's us",
    "party.first_mile_carrier": "the first-mile carrier, {carrier}",
    "party.customs_broker": "the customs broker",
    "party.international_carrier": "the international carrier, {carrier}",
    "party.last_mile_courier": "the delivery courier, {courier}",
    "party.shopper": "you, as the importer of record",
    "party.short.seller": "our warehouse team",
    "party.short.first_mile_carrier": "{carrier}",
    "party.short.customs_broker": "the customs broker",
    "party.short.international_carrier": "{carrier}",
    "party.short.last_mile_courier": "{courier}",
    "party.short.shopper": "customs",
    "incoterm.DDP": "D D P, delivered duty paid",
    "incoterm.DAP": "D A P, delivered at place",
    "incoterm.DDU": "D D U, delivered duty unpaid",
    # units
    "unit.day": "{count} day",
    "unit.days": "{count} days",
    "unit.hour": "{count} hour",
    "unit.hours": "{count} hours",
    "unit.day_range": "{low} to {high} days",
}


# Country names said with "the" ("to the United Kingdom").
_WITH_THE = ("United ", "Netherlands", "Philippines", "Czech Republic", "Bahamas")


class English(Speech):
    def __init__(self) -> None:
        super().__init__("en", TEMPLATES)

    def country(self, code: str) -> str:
        name = super().country(code)
        return f"the {name}" if name.startswith(_WITH_THE) else name

    def date(self, day: date) -> str:
        """ "Tuesday, the 3rd of November" (the year only when it is not this one's)."""
        ordinal = num2words(day.day, lang="en", to="ordinal_num")
        return f"{day:%A}, the {ordinal} of {day:%B}"
