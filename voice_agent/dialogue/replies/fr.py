"""French replies: every sentence the agent says, with "vous", and French spoken forms.

The keys and fields are English's (``en.py``). Pieces spoken inside other sentences carry
their article where the sentence needs one: stages after "pendant" ("pendant le transport
international"), parties after "avec" or a colon. A country name is never given an article
(Babel has no genders): templates put it after a comma or a label. Numbers are written in
words, feminine where the noun is ("une heure", "vingt et une heures"). The agent never says
a word that takes its own gender ("désolé"): the voice may be a woman's or a man's.
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
    "ack.hello": "Bonjour, merci de votre appel.",
    "ack.got_it": "C'est noté.",
    "ack.thanks": "Merci.",
    "ack.sure": "Bien sûr.",
    "ack.of_course": "Certainement.",
    "ack.all_right": "Très bien.",
    "ack.sorry": "Toutes mes excuses.",
    "ack.sorry_unclear": "Pardon, je n'ai pas bien compris.",
    "ack.done": "C'est fait.",
    "ack.latest": "Voici les dernières nouvelles.",
    "ack.checking": "Merci, j'ai vérifié.",
    "ack.verified": "Merci, cela correspond.",
    "ack.good_news": "Bonne nouvelle.",
    "ack.bye": "Merci de votre appel.",
    "ack.welcome": "Je vous en prie.",
    "ack.no_problem": "Pas de problème.",
    "ack.frustrated": "Je comprends, toutes mes excuses.",
    "ack.slower": "Bien sûr, plus lentement.",
    # general
    "greeting.ask": "Comment puis-je vous aider avec votre commande aujourd'hui ?",
    "general.ask_again": "Pourriez-vous répéter, s'il vous plaît ?",
    "general.anything_else": "Puis-je vous aider pour autre chose ?",
    # outbound calls (dialogue/purpose.py)
    "outbound.opening": "Bonjour, ici {shop}, nous vous appelons au sujet de votre réclamation.",
    "outbound.opening_return": "Bonjour, ici {shop}, nous vous appelons au sujet de votre retour.",
    "outbound.return.refunded": (
        "Votre retour {reference} a été remboursé, sur votre moyen de paiement. La "
        "boutique vous enverra le reçu par e-mail."
    ),
    "outbound.verify_first": (
        "Avant de vous donner des détails, je dois m'assurer que je parle à la bonne personne."
    ),
    "outbound.claim.accepted": (
        "Votre réclamation {reference} a été acceptée. La boutique vous enverra les "
        "prochaines étapes par e-mail."
    ),
    "outbound.claim.rejected": (
        "Je suis désolé, votre réclamation {reference} a été refusée. La boutique vous en "
        "enverra les raisons par e-mail."
    ),
    "outbound.machine.callback": "Merci de nous rappeler quand cela vous convient.",
    "outbound.machine.callback_number": "Merci de nous rappeler au {number}.",
    "outbound.machine.goodbye": "Merci, au revoir.",
    "general.what_else": "Que puis-je faire pour vous ?",
    "general.goodbye": "Au revoir !",
    "recording.notice": (
        "Cet appel est enregistré pour que nous puissions vérifier la qualité de notre service. "
        "Si vous préférez qu'il ne le soit pas, dites-le simplement."
    ),
    "recording.stopped": "Très bien, cet appel ne sera pas enregistré.",
    "recording.carry_on": "Comment puis-je vous aider ?",
    "general.yes_or_no": "Merci de répondre par oui ou par non.",
    # said by the call session itself
    "session.reprompt": "Êtes-vous toujours là ? Comment puis-je vous aider ?",
    "session.silence_goodbye": (
        "Je n'entends plus rien, je vais donc mettre fin à l'appel. Au revoir."
    ),
    "session.time_limit_goodbye": (
        "Nous avons atteint la durée maximale de cet appel. Merci, au revoir."
    ),
    # a caller speaking a language the line does not offer
    "language.unsupported": "Sur cette ligne, je ne peux vous aider qu'en {languages}.",
    "language.offer_person": (
        "Je peux demander à un conseiller de vous rappeler. Le souhaitez-vous ?"
    ),
    "scope.cannot": "Je ne peux malheureusement pas vous aider pour cela.",
    "scope.offer": (
        "Je peux vous aider pour les commandes, les livraisons, les retours, les droits de "
        "douane, les changements d'adresse et les produits."
    ),
    "scope.person": "Ou souhaitez-vous qu'un conseiller vous rappelle ?",
    "repeat.nothing": "Je n'ai encore rien dit.",
    "goals.after_verify": "J'y viendrai dès que j'aurai confirmé votre identité.",
    "frustrated.offer": "Si vous préférez, un conseiller peut d'abord vous rappeler.",
    "frustrated.offer_ask": "Le souhaitez-vous ?",
    "frustrated.or_tell": "Ou dites-moi ce qui s'est passé, et je vérifie tout de suite.",
    # verification
    "verify.ask_number": "Quel est votre numéro de commande ?",
    "verify.how_number": (
        "Vous pouvez le dire chiffre par chiffre, ou le saisir sur le clavier de votre téléphone."
    ),
    "verify.number_unclear": "Je n'ai pas obtenu de numéro de commande complet.",
    "verify.number_length": "Les numéros de commande ont {digits} chiffres.",
    "verify.read_back": "Commande {number}.",
    "verify.ask_factor": "Pour confirmer votre identité, merci de m'indiquer {factors}.",
    "verify.factor.postcode": "le code postal",
    "verify.factor.email_prefix": "les {letters} premières lettres de l'adresse e-mail",
    "verify.factor.phone_last4": "les {digits} derniers chiffres du numéro de téléphone",
    "verify.factor_unclear": "Je n'ai pas compris.",
    "verify.no_match": "Cela ne correspond pas à nos informations pour la commande {number}.",
    "verify.attempts_left": "Il vous reste {count} essai.",
    "verify.attempts_left_many": "Il vous reste {count} essais.",
    "verify.locked_now": (
        "Pour votre sécurité, la commande {number} est maintenant bloquée pendant {duration}."
    ),
    "verify.locked": "Pour votre sécurité, la commande {number} est bloquée jusqu'à {time}.",
    "verify.heard": "J'ai compris {value}.",
    "verify.is_that_right": "Est-ce exact ?",
    "verify.heard_wrong": "Pardon, c'est une erreur de ma part.",
    "verify.keypad": (
        "Vous pouvez aussi utiliser le clavier du téléphone, puis appuyer sur la touche dièse."
    ),
    "verify.minutes": "{count} minutes",
    "verify.hours": "{count} heures",
    "verify.one_hour": "une heure",
    "verify.offer_person": (
        "Je peux demander à un conseiller de vous rappeler. Le souhaitez-vous ?"
    ),
    "verify.what_now": "Comment puis-je vous aider pour cette commande ?",
    "verify.too_many_unclear": "J'ai du mal à comprendre les informations.",
    # order status
    "status.not_dispatched": "Votre commande n'a pas encore été expédiée.",
    "status.placed": "Elle a été passée le {date}, et nous la préparons.",
    "status.event": "Le {date}, à {place} : {text}.",
    "status.holder.pickup": "Le colis est en cours d'enlèvement national, chez {carrier}.",
    "status.holder.export_customs": "Le colis est en dédouanement à l'export.",
    "status.holder.international": "Le colis est en transport international, chez {carrier}.",
    "status.holder.import_customs": (
        "Le colis est en dédouanement à l'import, dans le pays de destination, {country}."
    ),
    "status.holder.last_mile": "Le colis est maintenant chez {courier} pour la livraison.",
    "status.delivered": "Le colis a été livré le {date}.",
    "status.window": "Nous l'attendons entre le {start} et le {end}.",
    "status.window_by": "Nous l'attendons d'ici le {date}.",
    "status.late": "Il était attendu au plus tard le {date}, il est donc en retard.",
    "status.late_claim": (
        "S'il est perdu, je peux le vérifier pour vous et ouvrir une réclamation."
    ),
    # lost parcel
    "lost.not_dispatched": (
        "Votre commande n'a pas encore été expédiée, elle ne peut donc pas être perdue."
    ),
    "lost.last_scan": "Le dernier scan date d'il y a {age}, le {date}, pendant {stage}.",
    "lost.scan_text": "Il indique : {text}.",
    "lost.delivered": "Selon notre suivi, le colis a été livré le {date}, à {place}.",
    "lost.not_yet": (
        "Pendant {stage}, nous considérons un colis comme perdu après {days} sans scan, il est "
        "donc très probablement encore en route."
    ),
    "lost.call_back_on": (
        "S'il n'y a pas de nouvelles d'ici le {date}, appelez-nous et nous ouvrirons une "
        "réclamation."
    ),
    "lost.presumed": "Après {days} sans scan à cette étape, nous considérons le colis comme perdu.",
    "lost.delivered_missing": (
        "Un colis indiqué comme livré mais non reçu est traité comme perdu."
    ),
    "lost.responsible": "Responsable à cette étape : {party}.",
    "lost.held": "Nous avons déjà : {evidence}.",
    "lost.held_nothing": "Nous n'avons encore aucune preuve pour cette étape.",
    "lost.missing": "Il manque encore, et nous allons le demander : {evidence}.",
    "lost.missing_nothing": "Rien d'autre n'est nécessaire.",
    "lost.confirm": "Voulez-vous que j'ouvre une réclamation ?",
    "lost.existing": (
        "Une réclamation est déjà ouverte pour cette commande, référence {reference}."
    ),
    "lost.existing_by": "Nous reviendrons vers vous d'ici le {date}.",
    "claim.opened": "Votre réclamation est ouverte.",
    "claim.reference": "Votre référence est {reference}.",
    "claim.reference_again": "Je répète : {reference}.",
    "claim.outcome.reship_or_refund": (
        "Votre commande est assurée, nous la renverrons ou vous rembourserons d'ici le {date}."
    ),
    "claim.outcome.investigation": (
        "Nous allons enquêter avec {party} et vous donner une réponse d'ici le {date}."
    ),
    "claim.outcome.release_guidance": (
        "Nous vous enverrons d'ici le {date} les documents demandés par la douane, pour que "
        "vous puissiez faire dédouaner le colis."
    ),
    "claim.declined": "Pas de réclamation, alors.",
    # hand-off
    "handoff.created": "Un conseiller vous rappellera le {date}, avant {time}.",
    "handoff.created_today": "Un conseiller vous rappellera aujourd'hui, avant {time}.",
    "handoff.zone_time": "{time}, heure de {city}",
    "handoff.reference": "Votre référence est {reference}.",
    "handoff.transfer": (
        "Je vous mets en relation avec un conseiller. Votre référence est {reference}."
    ),
    "handoff.declined": "Pas de problème.",
    "handoff.quote_reference": "Si vous nous rappelez, merci d'indiquer cette référence.",
    # where to call back
    "callback.offer_caller": (
        "Pouvons-nous vous rappeler au numéro depuis lequel vous appelez, qui se termine par "
        "{digits} ?"
    ),
    "callback.offer_order_phone": (
        "Pouvons-nous vous rappeler au numéro de votre commande, qui se termine par {digits} ?"
    ),
    "callback.offer_order_email": (
        "Pouvons-nous vous répondre à l'adresse e-mail de votre commande ?"
    ),
    "callback.ask": (
        "Quel est le meilleur numéro de téléphone ou la meilleure adresse e-mail pour vous "
        "joindre ?"
    ),
    "callback.read_back": "C'est bien {contact}.",
    "callback.unclear": "Je n'ai compris ni numéro de téléphone ni adresse e-mail.",
    "callback.unclear_yes_no": "Dites oui, s'il vous plaît, ou donnez-moi les bonnes coordonnées.",
    "callback.ask_again": "Merci de répéter le numéro ou l'adresse e-mail.",
    "callback.or_none": "Ou dites non si vous préférez ne pas en donner.",
    "callback.order_details": "L'équipe verra votre appel avec les détails de votre commande.",
    "callback.no_contact": (
        "Sans numéro, nous ne pouvons pas vous rappeler, mais l'équipe verra votre appel."
    ),
    "callback.plus": "plus {digits}",
    "callback.email": "{local} arobase {domain}",
    "symbol.dot": "point",
    "symbol.underscore": "tiret bas",
    "symbol.dash": "tiret",
    "symbol.plus": "plus",
    # overdue, whatever was asked
    "overdue.said": "Votre colis est en retard : aucun scan depuis {age}, soit depuis le {date}.",
    "overdue.rule": (
        "Pendant {stage}, nous considérons un colis comme perdu après {days} sans scan."
    ),
    # tracking number and carrier
    "tracking.number": "Le numéro de suivi est {number}.",
    "tracking.carrier": "Le colis est acheminé par {carrier}, et livré par {courier}.",
    "tracking.carrier_only": "Le colis est acheminé par {carrier}.",
    "tracking.offer_link": (
        "Voulez-vous que je demande à la boutique de vous envoyer le lien de suivi par e-mail ?"
    ),
    "tracking.none": (
        "Le colis n'a pas encore de numéro de suivi : il n'a pas été remis à un transporteur."
    ),
    # where it was left; delivered but not received
    "where.delivered": "Le colis a été livré le {date}, à {place}.",
    "where.left": "Le scan de livraison indique : {text}.",
    "where.no_detail": "Le scan de livraison ne précise pas où le colis a été déposé.",
    "where.if_missing": "Si vous ne le trouvez pas, je peux ouvrir une réclamation.",
    "where.check_first": "Merci de vérifier d'abord à cet endroit.",
    "where.not_delivered": "Le colis n'a pas encore été livré.",
    # damaged, wrong or missing item
    "item.sorry.damaged_item": "L'article n'aurait pas dû arriver endommagé.",
    "item.sorry.wrong_item": "Vous auriez dû recevoir ce que vous avez commandé.",
    "item.sorry.missing_item": "Tout ce que vous avez commandé aurait dû être dans le colis.",
    "item.claim.damaged_item": "Je peux ouvrir une réclamation pour l'article endommagé.",
    "item.claim.wrong_item": "Je peux ouvrir une réclamation pour l'article erroné.",
    "item.claim.missing_item": "Je peux ouvrir une réclamation pour l'article manquant.",
    "item.photos": "La boutique vous demandera : {evidence}.",
    "item.outcome": (
        "Dès qu'elle les aura, vous recevrez un remplacement ou un remboursement sous {days}."
    ),
    "item.confirm": "Voulez-vous que j'ouvre la réclamation ?",
    "item.existing": "Une réclamation est déjà ouverte pour cela, référence {reference}.",
    "claim.photos_needed": "La boutique vous contactera pour les photos.",
    "claim.outcome.replace_or_refund": (
        "Vous recevrez un remplacement ou un remboursement d'ici le {date}, dès que la "
        "boutique aura les photos."
    ),
    # refund status (the shop's records)
    "refund.paid": (
        "Votre remboursement de {amount} a été versé le {date}, sur votre moyen de paiement "
        "d'origine."
    ),
    "refund.approved": (
        "Votre remboursement de {amount} a été approuvé le {date}, mais n'est pas encore versé."
    ),
    "refund.pending": (
        "Votre remboursement de {amount} est en cours de traitement depuis le {date}."
    ),
    "refund.refused": "Votre remboursement a été refusé le {date}.",
    "refund.offer_person": "Un conseiller peut vous expliquer pourquoi. Le souhaitez-vous ?",
    "refund.received": "Nous avons reçu votre retour le {date}.",
    "refund.due": "Nous remboursons sous {days} après réception, donc d'ici le {date}.",
    "refund.return_registered": (
        "Votre retour a été enregistré le {date}, et nous ne l'avons pas encore reçu."
    ),
    "refund.after_receipt": "Nous remboursons sous {days} après réception des articles.",
    "refund.request_open": "Votre demande de retour, référence {reference}, est ouverte.",
    "refund.nothing": "Je ne trouve ni retour ni remboursement pour cette commande.",
    "refund.how": (
        "Un remboursement fait suite à un retour ; je peux ouvrir une demande de retour si "
        "vous le souhaitez."
    ),
    # cancellation
    "cancel.can_ask": (
        "Votre commande n'a pas encore été expédiée, je peux donc demander à la boutique de "
        "l'annuler."
    ),
    "cancel.not_done": "Elle est annulée dès que la boutique le confirme.",
    "cancel.confirm": "Voulez-vous que j'envoie la demande d'annulation ?",
    "cancel.dispatched": (
        "Votre commande a déjà été expédiée, elle ne peut donc plus être annulée."
    ),
    "cancel.return_path": (
        "Une fois qu'elle sera arrivée, vous pourrez la retourner sous {days} après la livraison."
    ),
    "cancel.return_instead": "Comme elle a été livrée, vous pouvez plutôt la retourner.",
    "cancel.existing": "Une demande d'annulation existe déjà, référence {reference}.",
    # requests recorded for the shop
    "request.recorded.cancellation": "J'ai envoyé votre demande d'annulation à la boutique.",
    "request.recorded.invoice": "J'ai demandé à la boutique de vous envoyer la facture par e-mail.",
    "request.recorded.duplicate_charge": (
        "J'ai demandé à l'équipe de la boutique de vérifier le double débit."
    ),
    "request.recorded.complaint": ("J'ai enregistré votre plainte pour l'équipe de la boutique."),
    "request.recorded.tracking_link": (
        "J'ai demandé à la boutique de vous envoyer le lien de suivi par e-mail."
    ),
    "request.reply_by": "Elle vous répondra d'ici le {date}.",
    "request.declined": "Rien n'est envoyé, alors.",
    "charge.cannot_see": "Je ne peux pas consulter les paiements moi-même.",
    "complaint.heard": "Merci de nous l'avoir signalé.",
    # delivery times before buying
    "delivery_time.country": (
        "Pour le pays de livraison, {country}, comptez {value} pour la plupart des articles."
    ),
    "delivery_time.default": (
        "La livraison prend généralement {value} ; indiquez-moi le pays pour plus de précision."
    ),
    "delivery_time.others": "Certains articles arrivent plus vite : {products}.",
    "delivery_time.unknown": "Je n'ai pas de délais de livraison pour cela.",
    # no order number at hand
    "lookup.by_phone": (
        "Je peux retrouver votre commande grâce au numéro depuis lequel vous appelez."
    ),
    "lookup.ask_email": "Avec quelle adresse e-mail avez-vous commandé ?",
    "lookup.spell": "Vous pouvez l'épeler lettre par lettre.",
    "lookup.email_unclear": "Je n'ai pas compris d'adresse e-mail.",
    "lookup.email_read_back": "C'est bien {email}.",
    "lookup.phone_read_back": "C'est bien {phone}.",
    "lookup.ask_factor": "Pour retrouver votre commande, merci de m'indiquer {factors}.",
    "lookup.found": "J'ai trouvé votre commande, numéro {number}.",
    "lookup.no_match": "Cela ne correspond pas à ce que j'ai.",
    "lookup.locked": "Pour votre sécurité, je ne peux pas refaire de recherche pour le moment.",
    "lookup.locked_now": (
        "Pour votre sécurité, je ne peux pas refaire de recherche pendant {minutes} minutes."
    ),
    # returns
    "return.not_delivered": "Votre commande n'a pas encore été livrée.",
    "return.window_rule": "Vous pouvez retourner les articles sous {days} après la livraison.",
    "return.expired": (
        "Elle a été livrée le {date}, et le délai de retour de {days} a pris fin le {end}."
    ),
    "return.offer_person": "Je peux demander à un conseiller d'examiner cela. Le souhaitez-vous ?",
    "return.until": "Elle a été livrée le {date}, vous pouvez donc la retourner jusqu'au {end}.",
    "return.shipping.seller": "Le retour est gratuit.",
    "return.shipping.shopper": "Les frais de retour sont à votre charge.",
    "return.refund": "Nous remboursons sous {days} après réception des articles.",
    "return.refund_amount": ("Nous remboursons les {amount} payés sous {days} après réception."),
    "return.confirm": "Voulez-vous que j'ouvre une demande de retour ?",
    "return.opened": "Votre demande de retour est ouverte.",
    "return.existing": (
        "Une demande de retour existe déjà pour cette commande, référence {reference}."
    ),
    "return.declined": "Pas de demande de retour, alors.",
    # duties and taxes
    "duties.seller": (
        "Votre commande a été expédiée en {incoterm}, donc le vendeur paie les droits et taxes "
        "d'importation."
    ),
    "duties.seller_nothing": "Vous n'avez rien à payer à la livraison.",
    "duties.shopper": (
        "Votre commande a été expédiée en {incoterm}, donc les droits et taxes d'importation "
        "sont à votre charge, en tant que destinataire."
    ),
    "duties.shopper_how": "Le livreur ou la douane vous les demandera avant la livraison.",
    "duties.held": "Votre colis est à la douane d'importation depuis le {date}.",
    "duties.held_text": "Le dernier scan indique : {text}.",
    "duties.documents": "La douane peut vous demander : {documents}.",
    "duties.seller_documents": "C'est à nous de nous en occuper, et nous nous en chargeons.",
    # address change
    "address.can_change": (
        "Votre commande n'a pas encore été expédiée, je peux donc changer l'adresse."
    ),
    "address.ask": "Quelle est la nouvelle adresse, avec le code postal ?",
    "address.no_postcode": "Je n'ai pas entendu de code postal.",
    "address.ask_again": "Merci de donner la nouvelle adresse complète, avec le code postal.",
    "address.read_back": "La nouvelle adresse est {address}, code postal {postcode}.",
    "address.confirm": "Voulez-vous que je la modifie ?",
    "address.changed": "L'adresse de livraison est modifiée.",
    "address.declined": "L'adresse reste inchangée.",
    "address.dispatched": (
        "Votre colis a déjà été expédié, je ne peux donc pas changer l'adresse ici."
    ),
    "address.options": "Voici ce que vous pouvez faire : {options}.",
    "address.offer_person": "Souhaitez-vous qu'un conseiller vous aide pour cela ?",
    # products
    "product.which": "De quel produit s'agit-il ?",
    "product.not_found": "Je n'ai pas trouvé ce produit dans notre catalogue.",
    "product.say_name": "Pourriez-vous me dire son nom ?",
    "product.fact": "{product} : {attribute}, {value}.",
    "product.fact_more": "{attribute}, {value}.",
    "product.ship_time": (
        "L'expédition de {product} prend {value}, pour le pays de livraison, {country}."
    ),
    "product.ship_time_default": "L'expédition de {product} prend généralement {value}.",
    "product.unknown": "Je n'ai pas cette information pour {product}.",
    "product.known": "Je peux vous indiquer : {attributes}.",
    "product.offer_person": "Ou un conseiller peut se renseigner pour vous. Le souhaitez-vous ?",
    "product.what": "Que souhaitez-vous savoir sur {product} ?",
    # product attributes the catalogue names (another shop's own names are said as they are)
    "attribute.age": "âge",
    "attribute.battery": "batterie",
    "attribute.bluetooth": "Bluetooth",
    "attribute.cabin": "bagage cabine",
    "attribute.capacity": "capacité",
    "attribute.care": "entretien",
    "attribute.colour": "couleur",
    "attribute.colours": "couleurs",
    "attribute.compatibility": "compatibilité",
    "attribute.control": "commande",
    "attribute.data": "transfert de données",
    "attribute.fit": "coupe",
    "attribute.height": "hauteur",
    "attribute.laptop": "ordinateur portable",
    "attribute.length": "longueur",
    "attribute.material": "matière",
    "attribute.memory": "mémoire",
    "attribute.night_vision": "vision nocturne",
    "attribute.note": "remarque",
    "attribute.output": "puissance de sortie",
    "attribute.pieces": "pièces",
    "attribute.plug": "prise",
    "attribute.power": "alimentation",
    "attribute.remote": "télécommande",
    "attribute.resolution": "résolution",
    "attribute.safety": "sécurité",
    "attribute.size": "taille",
    "attribute.size_guide": "guide des tailles",
    "attribute.sizes": "tailles",
    "attribute.voltage": "tension",
    "attribute.water_resistance": "résistance à l'eau",
    "attribute.weight": "poids",
    "attribute.wireless_charging": "recharge sans fil",
    # stages, with their article: said after "pendant"
    "stage.pickup": "l'enlèvement national",
    "stage.export_customs": "le dédouanement à l'export",
    "stage.international": "le transport international",
    "stage.import_customs": "le dédouanement à l'import",
    "stage.last_mile": "la livraison finale",
    # parties: after a colon (lost.responsible), the short ones after "avec"
    "party.seller": "le vendeur, c'est-à-dire nous",
    "party.first_mile_carrier": "le transporteur de l'enlèvement, {carrier}",
    "party.customs_broker": "le commissionnaire en douane",
    "party.international_carrier": "le transporteur international, {carrier}",
    "party.last_mile_courier": "le livreur, {courier}",
    "party.shopper": "vous, en tant qu'importateur",
    "party.short.seller": "notre équipe d'entrepôt",
    "party.short.first_mile_carrier": "{carrier}",
    "party.short.customs_broker": "le commissionnaire en douane",
    "party.short.international_carrier": "{carrier}",
    "party.short.last_mile_courier": "{courier}",
    "party.short.shopper": "la douane",
    "incoterm.DDP": "D D P, rendu droits acquittés",
    "incoterm.DAP": "D A P, rendu au lieu de destination",
    "incoterm.DDU": "D D U, rendu droits non acquittés",
    # units
    "unit.day": "{count} jour",
    "unit.days": "{count} jours",
    "unit.hour": "{count} heure",
    "unit.hours": "{count} heures",
    "unit.day_range": "{low} à {high} jours",
}

# Currencies whose French name is feminine ("une livre sterling", "vingt et une couronnes").
_FEMININE_CURRENCY = ("livre", "couronne", "roupie", "roupies", "hryvnia")


def _feminine(words: str) -> str:
    """ "un" -> "une", "vingt et un" -> "vingt et une" (a count before a feminine noun)."""
    return words + "e" if words == "un" or words.endswith((" un", "-un")) else words


class French(Speech):
    def __init__(self) -> None:
        super().__init__("fr", TEMPLATES)
        self.locale = Locale.parse(LOCALES["fr"])

    def number(self, value: int) -> str:
        return str(num2words(value, lang="fr"))

    def date(self, day: date) -> str:
        """ "mardi trois novembre", "lundi premier juin": said after "le"."""
        weekday, month = format_date(day, "EEEE|MMMM", locale=self.locale).split("|")
        number = "premier" if day.day == 1 else self.number(day.day)
        return f"{weekday} {number} {month}"

    def time(self, moment: datetime) -> str:
        """ "quatorze heures trente", "une heure", "minuit" (the 24-hour clock, said aloud)."""
        if moment.hour == 0 and moment.minute == 0:
            return "minuit"
        hour = self.hours(moment.hour) if moment.hour else "zéro heure"
        if moment.minute == 0:
            return hour
        return f"{hour} {_feminine(self.number(moment.minute))}"

    def money(self, amount: Decimal, currency: str) -> str:
        """ "douze euros cinquante", "une livre sterling": the minor units after the currency."""
        major = int(amount)
        minor = int((amount - major) * 100)
        name = get_currency_name(currency, count=major, locale=self.locale)
        count = self.number(major)
        if name.startswith(_FEMININE_CURRENCY):
            count = _feminine(count)
        return f"{count} {name}" + (f" {self.number(minor)}" if minor else "")

    def days(self, count: int) -> str:
        return self.say("unit.day" if count == 1 else "unit.days", count=self.number(count))

    def hours(self, count: int) -> str:
        word = _feminine(self.number(count))
        return self.say("unit.hour" if count == 1 else "unit.hours", count=word)
