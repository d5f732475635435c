"""Brazilian Portuguese replies ("você"): every sentence the agent says, and Brazil's spoken
forms.

The keys and fields are English's (en.py): one template is one sentence, short openers
(``ack.*``) first. Numbers are said in words that agree with their noun ("uma hora", "duas
horas", "dois dias"); a preposition merges with the article or weekday after it ("em {date}" ->
"na terça-feira, dia três de novembro"; "em {stage}" -> "na alfândega"); times carry their
article ("até as quatro da tarde", "até o meio-dia"); money as "doze reais e cinquenta".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import get_currency_name
from num2words import num2words

from voice_agent.dialogue.replies.agreement import AgreeingSpeech, last_word

TEMPLATES: dict[str, str] = {
    # short openers: the first chunk of a reply (at most ~6 words)
    "ack.hello": "Olá, obrigado por ligar.",
    "ack.got_it": "Entendi.",
    "ack.thanks": "Obrigado.",
    "ack.sure": "Claro.",
    "ack.of_course": "Com certeza.",
    "ack.all_right": "Tudo bem.",
    "ack.sorry": "Sinto muito.",
    "ack.sorry_unclear": "Desculpe, não entendi.",
    "ack.done": "Pronto.",
    "ack.latest": "Aqui vai a última atualização.",
    "ack.checking": "Obrigado, já verifiquei.",
    "ack.verified": "Obrigado, os dados conferem.",
    "ack.good_news": "Boa notícia.",
    "ack.bye": "Obrigado pela ligação.",
    "ack.welcome": "De nada.",
    "ack.no_problem": "Sem problema.",
    "ack.frustrated": "Sinto muito, eu entendo.",
    "ack.slower": "Claro, mais devagar.",
    # general
    "greeting.ask": "Como posso ajudar com o seu pedido hoje?",
    "general.ask_again": "Você pode repetir, por favor?",
    "general.anything_else": "Posso ajudar em mais alguma coisa?",
    # outbound calls (dialogue/purpose.py)
    "outbound.opening": "Olá, aqui é {shop}, estamos ligando sobre a sua reclamação.",
    "outbound.opening_return": "Olá, aqui é {shop}, estamos ligando sobre a sua devolução.",
    "outbound.return.refunded": (
        "A sua devolução {reference} foi reembolsada, no mesmo meio de pagamento. A loja "
        "vai enviar o recibo por e-mail."
    ),
    "outbound.verify_first": (
        "Antes de dar qualquer detalhe, preciso confirmar que estou falando com a pessoa certa."
    ),
    "outbound.claim.accepted": (
        "A sua reclamação {reference} foi aceita. A loja vai enviar os próximos passos por e-mail."
    ),
    "outbound.claim.rejected": (
        "Sinto muito, a sua reclamação {reference} foi recusada. A loja vai enviar os "
        "motivos por e-mail."
    ),
    "outbound.machine.callback": "Por favor, retorne a ligação quando puder.",
    "outbound.machine.callback_number": "Por favor, retorne a ligação para o {number}.",
    "outbound.machine.goodbye": "Obrigado, tchau.",
    "general.what_else": "Em que posso ajudar?",
    "general.goodbye": "Tchau!",
    "recording.notice": (
        "Esta ligação é gravada para avaliarmos o nosso atendimento. "
        "Se preferir que não seja gravada, é só dizer."
    ),
    "recording.stopped": "Tudo bem, esta ligação não será gravada.",
    "recording.carry_on": "Como posso ajudar?",
    "general.yes_or_no": "Por favor, diga sim ou não.",
    # said by the call session itself
    "session.reprompt": "Você ainda está aí? Como posso ajudar?",
    "session.silence_goodbye": "Não estou ouvindo nada, então vou encerrar a ligação. Tchau.",
    "session.time_limit_goodbye": "Chegamos ao tempo máximo desta ligação. Obrigado, tchau.",
    # a caller speaking a language the line does not offer
    "language.unsupported": "Nesta linha, só posso atender em {languages}.",
    "language.offer_person": "Posso pedir que uma pessoa ligue para você. Você gostaria disso?",
    "scope.cannot": "Infelizmente, não posso ajudar com isso.",
    "scope.offer": (
        "Posso ajudar com pedidos, entregas, devoluções, impostos de importação, mudanças de "
        "endereço e produtos."
    ),
    "scope.person": "Ou você prefere que uma pessoa ligue de volta?",
    "repeat.nothing": "Eu ainda não disse nada.",
    "goals.after_verify": "Vejo isso assim que confirmar que é você.",
    "frustrated.offer": "Se preferir, posso pedir que uma pessoa ligue para você antes.",
    "frustrated.offer_ask": "Você gostaria disso?",
    "frustrated.or_tell": "Ou me conte o que aconteceu, que eu verifico agora.",
    # verification
    "verify.ask_number": "Qual é o número do seu pedido?",
    "verify.how_number": "Você pode falar dígito por dígito ou digitar no teclado do telefone.",
    "verify.number_unclear": "Não recebi um número de pedido completo.",
    "verify.number_length": "Os números de pedido têm {digits} dígitos.",
    "verify.read_back": "Pedido {number}.",
    "verify.ask_factor": "Para confirmar que é você, por favor, me diga {factors}.",
    "verify.factor.postcode": "o CEP",
    "verify.factor.email_prefix": "as primeiras {letters} letras do e-mail",
    "verify.factor.phone_last4": "os últimos {digits} dígitos do telefone",
    "verify.factor_unclear": "Não entendi.",
    "verify.no_match": "Isso não confere com os dados do pedido {number}.",
    "verify.attempts_left": "Você pode tentar mais {count} vez.",
    "verify.attempts_left_many": "Você pode tentar mais {count} vezes.",
    "verify.locked_now": "Por segurança, o pedido {number} agora está bloqueado por {duration}.",
    "verify.locked": "Por segurança, o pedido {number} está bloqueado até {time}.",
    "verify.heard": "Eu entendi {value}.",
    "verify.is_that_right": "Está certo?",
    "verify.heard_wrong": "Desculpe, foi um engano meu.",
    "verify.keypad": "Você também pode digitar no teclado e depois apertar a tecla jogo da velha.",
    "verify.minutes": "{count} minutos",
    "verify.hours": "{count} horas",
    "verify.one_hour": "uma hora",
    "verify.offer_person": "Posso pedir que uma pessoa ligue para você. Você gostaria disso?",
    "verify.what_now": "Como posso ajudar com este pedido?",
    "verify.too_many_unclear": "Estou com dificuldade para entender os dados.",
    # order status
    "status.not_dispatched": "O seu pedido ainda não foi enviado.",
    "status.placed": "O pedido foi feito em {date}, e já estamos preparando o envio.",
    "status.event": "Em {date}, em {place}: {text}.",
    "status.holder.pickup": "Ele está na coleta nacional, com a transportadora {carrier}.",
    "status.holder.export_customs": "Ele está passando pela alfândega de exportação.",
    "status.holder.international": (
        "Ele está em trânsito internacional, com a transportadora {carrier}."
    ),
    "status.holder.import_customs": "Ele está na alfândega de importação de {country}.",
    "status.holder.last_mile": "Agora ele está com a transportadora {courier}, para a entrega.",
    "status.delivered": "Ele foi entregue em {date}.",
    "status.window": "A previsão é entre {start} e {end}.",
    "status.window_by": "A previsão é até {date}.",
    "status.late": "A previsão era até {date}, então ele está atrasado.",
    "status.late_claim": "Se ele foi extraviado, posso verificar e abrir uma reclamação.",
    # lost parcel
    "lost.not_dispatched": (
        "O seu pedido ainda não foi enviado, então não pode ter sido extraviado."
    ),
    "lost.last_scan": "A última leitura foi há {age}, em {date}, em {stage}.",
    "lost.scan_text": "Ela diz: {text}.",
    "lost.delivered": "O nosso rastreamento diz que ele foi entregue em {date}, em {place}.",
    "lost.not_yet": (
        "Em {stage}, consideramos um pacote extraviado depois de {days} sem leitura, então o "
        "mais provável é que ele ainda esteja a caminho."
    ),
    "lost.call_back_on": (
        "Se não houver novidades até {date}, ligue para nós e abriremos uma reclamação."
    ),
    "lost.presumed": "Depois de {days} sem leitura nesta etapa, consideramos o pacote extraviado.",
    "lost.delivered_missing": (
        "Um pacote marcado como entregue, mas que não chegou, é tratado como extraviado."
    ),
    "lost.responsible": "O responsável é {party}.",
    "lost.held": "Já temos {evidence}.",
    "lost.held_nothing": "Ainda não temos nenhuma prova desta etapa.",
    "lost.missing": "Ainda precisamos de {evidence}, que vamos solicitar.",
    "lost.missing_nothing": "Não precisamos de mais nada.",
    "lost.confirm": "Posso abrir uma reclamação?",
    "lost.existing": (
        "Já existe uma reclamação aberta para este pedido, com o protocolo {reference}."
    ),
    "lost.existing_by": "Vamos dar um retorno até {date}.",
    "claim.opened": "A sua reclamação foi aberta.",
    "claim.reference": "O seu número de protocolo é {reference}.",
    "claim.reference_again": "Repetindo: {reference}.",
    "claim.outcome.reship_or_refund": (
        "O seu pedido tem seguro, então vamos reenviá-lo ou reembolsar você até {date}."
    ),
    "claim.outcome.investigation": (
        "Vamos investigar junto com {party} e dar uma resposta até {date}."
    ),
    "claim.outcome.release_guidance": (
        "Vamos enviar os documentos que a alfândega pede até {date}, para você poder liberá-lo."
    ),
    "claim.declined": "Certo, sem reclamação.",
    # hand-off
    "handoff.created": "Um colega vai ligar para você em {date}, até {time}.",
    "handoff.created_today": "Um colega vai ligar para você hoje, até {time}.",
    "handoff.zone_time": "{time}, horário de {city}",
    "handoff.reference": "O seu número de protocolo é {reference}.",
    "handoff.transfer": (
        "Vou transferir você agora para um colega. O seu número de protocolo é {reference}."
    ),
    "handoff.declined": "Sem problema.",
    "handoff.quote_reference": "Se ligar de novo, por favor, informe esse protocolo.",
    # where to call back
    "callback.offer_caller": (
        "Podemos ligar de volta para o número de onde você está ligando, com final {digits}?"
    ),
    "callback.offer_order_phone": (
        "Podemos ligar de volta para o número do seu pedido, com final {digits}?"
    ),
    "callback.offer_order_email": "Podemos responder no e-mail do seu pedido?",
    "callback.ask": "Qual é o melhor telefone ou e-mail para falarmos com você?",
    "callback.read_back": "É {contact}.",
    "callback.unclear": "Não entendi nenhum telefone nem e-mail.",
    "callback.unclear_yes_no": "Por favor, diga sim, ou me diga o correto.",
    "callback.ask_again": "Por favor, repita o número ou o e-mail.",
    "callback.or_none": "Ou diga não, se preferir não informar nenhum.",
    "callback.order_details": "A equipe vai ver a sua ligação com os dados do seu pedido.",
    "callback.no_contact": (
        "Sem um número não conseguimos ligar de volta, mas a equipe vai ver a sua ligação."
    ),
    "callback.plus": "mais {digits}",
    "callback.email": "{local} arroba {domain}",
    "symbol.dot": "ponto",
    "symbol.underscore": "sublinhado",
    "symbol.dash": "hífen",
    "symbol.plus": "mais",
    # overdue, whatever was asked
    "overdue.said": "O seu pacote está atrasado: está há {age} sem leitura, desde {date}.",
    "overdue.rule": "Em {stage}, consideramos um pacote extraviado depois de {days} sem leitura.",
    # tracking number and carrier
    "tracking.number": "O código de rastreio é {number}.",
    "tracking.carrier": "Ele é transportado por {carrier} e entregue por {courier}.",
    "tracking.carrier_only": "Ele é transportado por {carrier}.",
    "tracking.offer_link": "Quer que eu peça à loja para mandar o link de rastreio por e-mail?",
    "tracking.none": (
        "Ele ainda não tem código de rastreio: ainda não foi entregue a uma transportadora."
    ),
    # where it was left; delivered but not received
    "where.delivered": "Ele foi entregue em {date}, em {place}.",
    "where.left": "A leitura de entrega diz: {text}.",
    "where.no_detail": "A leitura de entrega não diz onde ele foi deixado.",
    "where.if_missing": "Se você não encontrar, posso abrir uma reclamação.",
    "where.check_first": "Por favor, verifique lá primeiro.",
    "where.not_delivered": "Ele ainda não foi entregue.",
    # damaged, wrong or missing item
    "item.sorry.damaged_item": "O produto não deveria ter chegado danificado.",
    "item.sorry.wrong_item": "Você deveria ter recebido o que pediu.",
    "item.sorry.missing_item": "Tudo o que você pediu deveria estar no pacote.",
    "item.claim.damaged_item": "Posso abrir uma reclamação pelo produto danificado.",
    "item.claim.wrong_item": "Posso abrir uma reclamação pelo produto errado.",
    "item.claim.missing_item": "Posso abrir uma reclamação pelo produto que está faltando.",
    "item.photos": "A loja vai pedir a você {evidence}.",
    "item.outcome": (
        "Assim que a loja receber, você terá uma troca ou um reembolso em até {days}."
    ),
    "item.confirm": "Posso abrir a reclamação?",
    "item.existing": "Já existe uma reclamação aberta para isso, com o protocolo {reference}.",
    "claim.photos_needed": "A loja vai entrar em contato com você para pedir as fotos.",
    "claim.outcome.replace_or_refund": (
        "Você vai receber uma troca ou um reembolso até {date}, assim que a loja tiver as fotos."
    ),
    # refund status (the shop's records)
    "refund.paid": (
        "O seu reembolso de {amount} foi pago em {date}, na mesma forma de pagamento da compra."
    ),
    "refund.approved": (
        "O seu reembolso de {amount} foi aprovado em {date}, mas ainda não foi pago."
    ),
    "refund.pending": "O seu reembolso de {amount} está em processamento desde {date}.",
    "refund.refused": "O seu reembolso foi recusado em {date}.",
    "refund.offer_person": "Uma pessoa pode explicar o motivo. Você gostaria disso?",
    "refund.received": "Recebemos a sua devolução em {date}.",
    "refund.due": "Reembolsamos em até {days} depois do recebimento, então até {date}.",
    "refund.return_registered": (
        "A sua devolução foi registrada em {date}, e ainda não a recebemos."
    ),
    "refund.after_receipt": "Reembolsamos em até {days} depois de recebermos os produtos.",
    "refund.request_open": "A sua solicitação de devolução, protocolo {reference}, está aberta.",
    "refund.nothing": "Não encontrei nenhuma devolução nem reembolso para este pedido.",
    "refund.how": (
        "O reembolso vem depois de uma devolução; se quiser, posso abrir uma solicitação de "
        "devolução."
    ),
    # cancellation
    "cancel.can_ask": (
        "O seu pedido ainda não foi enviado, então posso pedir à loja para cancelá-lo."
    ),
    "cancel.not_done": "Ele fica cancelado quando a loja confirmar.",
    "cancel.confirm": "Posso enviar o pedido de cancelamento?",
    "cancel.dispatched": "O seu pedido já foi enviado, então não pode mais ser cancelado.",
    "cancel.return_path": "Quando ele chegar, você pode devolvê-lo em até {days} após a entrega.",
    "cancel.return_instead": "Como ele já foi entregue, você pode devolvê-lo.",
    "cancel.existing": "Já existe um pedido de cancelamento, com o protocolo {reference}.",
    # requests recorded for the shop
    "request.recorded.cancellation": "Enviei o seu pedido de cancelamento para a loja.",
    "request.recorded.invoice": "Pedi à loja para mandar a nota fiscal por e-mail.",
    "request.recorded.duplicate_charge": (
        "Pedi à equipe da loja para verificar a cobrança em dobro."
    ),
    "request.recorded.complaint": "Registrei a sua reclamação para a equipe da loja.",
    "request.recorded.tracking_link": "Pedi à loja para mandar o link de rastreio por e-mail.",
    "request.reply_by": "Eles vão responder até {date}.",
    "request.declined": "Certo, não enviei nada.",
    "charge.cannot_see": "Eu não consigo ver os pagamentos.",
    "complaint.heard": "Obrigado por nos contar.",
    # delivery times before buying
    "delivery_time.country": "A entrega para {country} leva {value} para a maioria dos produtos.",
    "delivery_time.default": (
        "A entrega costuma levar {value}; me diga o país para eu informar melhor."
    ),
    "delivery_time.others": "Alguns produtos chegam mais rápido: {products}.",
    "delivery_time.unknown": "Não tenho os prazos de entrega para isso.",
    # no order number at hand
    "lookup.by_phone": "Posso procurar pelo número de onde você está ligando.",
    "lookup.ask_email": "Qual é o e-mail que você usou no pedido?",
    "lookup.spell": "Você pode soletrar letra por letra.",
    "lookup.email_unclear": "Não entendi o e-mail.",
    "lookup.email_read_back": "É {email}.",
    "lookup.phone_read_back": "É {phone}.",
    "lookup.ask_factor": "Para encontrar o seu pedido, por favor, me diga {factors}.",
    "lookup.found": "Encontrei o seu pedido, número {number}.",
    "lookup.no_match": "Isso não confere com os dados que eu tenho.",
    "lookup.locked": "Por segurança, não posso procurar de novo agora.",
    "lookup.locked_now": (
        "Por segurança, não posso procurar de novo pelos próximos {minutes} minutos."
    ),
    # returns
    "return.not_delivered": "O seu pedido ainda não foi entregue.",
    "return.window_rule": "Você pode devolver produtos em até {days} após a entrega.",
    "return.expired": (
        "Ele foi entregue em {date}, e o prazo de devolução de {days} terminou em {end}."
    ),
    "return.offer_person": "Posso pedir para uma pessoa analisar. Você gostaria disso?",
    "return.until": "Ele foi entregue em {date}, então você pode devolvê-lo até {end}.",
    "return.shipping.seller": "O frete da devolução é grátis.",
    "return.shipping.shopper": "O frete da devolução fica por sua conta.",
    "return.refund": "Reembolsamos em até {days} depois de recebermos os produtos.",
    "return.refund_amount": (
        "Reembolsamos o valor pago, {amount}, em até {days} depois do recebimento."
    ),
    "return.confirm": "Posso abrir uma solicitação de devolução?",
    "return.opened": "A sua solicitação de devolução foi aberta.",
    "return.existing": (
        "Já existe uma solicitação de devolução para este pedido, com o protocolo {reference}."
    ),
    "return.declined": "Certo, sem solicitação de devolução.",
    # duties and taxes
    "duties.seller": (
        "O seu pedido foi enviado na modalidade {incoterm}, então o vendedor paga os impostos "
        "e taxas de importação."
    ),
    "duties.seller_nothing": "Você não tem nada a pagar na entrega.",
    "duties.shopper": (
        "O seu pedido foi enviado na modalidade {incoterm}, então os impostos e taxas de "
        "importação ficam por sua conta, como destinatário."
    ),
    "duties.shopper_how": "A transportadora ou a alfândega vai cobrar antes da entrega.",
    "duties.held": "O seu pacote está na alfândega de importação desde {date}.",
    "duties.held_text": "A última leitura diz: {text}.",
    "duties.documents": "A alfândega pode pedir {documents}.",
    "duties.seller_documents": "Isso é com a gente, e já estamos cuidando disso.",
    # address change
    "address.can_change": "O seu pedido ainda não foi enviado, então posso mudar o endereço.",
    "address.ask": "Qual é o novo endereço, com o CEP?",
    "address.no_postcode": "Não ouvi nenhum CEP.",
    "address.ask_again": "Por favor, diga o novo endereço completo, com o CEP.",
    "address.read_back": "O novo endereço é {address}, CEP {postcode}.",
    "address.confirm": "Posso fazer a mudança?",
    "address.changed": "O endereço de entrega foi alterado.",
    "address.declined": "O endereço continua o mesmo.",
    "address.dispatched": "O seu pacote já foi enviado, então não consigo mudar o endereço aqui.",
    "address.options": "Você pode {options}.",
    "address.offer_person": "Você gostaria que uma pessoa ajudasse com isso?",
    # products
    "product.which": "É sobre qual produto?",
    "product.not_found": "Não encontrei esse produto no nosso catálogo.",
    "product.say_name": "Você pode me dizer o nome dele?",
    "product.fact": "{product}: {attribute}, {value}.",
    "product.fact_more": "{attribute}, {value}.",
    "product.ship_time": "O envio de {product} para {country} leva {value}.",
    "product.ship_time_default": "O envio de {product} costuma levar {value}.",
    "product.unknown": "Não tenho essa informação sobre {product}.",
    "product.known": "Posso informar estes dados: {attributes}.",
    "product.offer_person": "Ou uma pessoa pode descobrir para você. Você gostaria disso?",
    "product.what": "O que você gostaria de saber sobre {product}?",
    # product attributes the catalogue names (another shop's own names are said as they are)
    "attribute.age": "idade",
    "attribute.battery": "bateria",
    "attribute.bluetooth": "bluetooth",
    "attribute.cabin": "bagagem de mão",
    "attribute.capacity": "capacidade",
    "attribute.care": "cuidados",
    "attribute.colour": "cor",
    "attribute.colours": "cores",
    "attribute.compatibility": "compatibilidade",
    "attribute.control": "controle",
    "attribute.data": "dados",
    "attribute.fit": "caimento",
    "attribute.height": "altura",
    "attribute.laptop": "notebook",
    "attribute.length": "comprimento",
    "attribute.material": "material",
    "attribute.memory": "memória",
    "attribute.night_vision": "visão noturna",
    "attribute.note": "observação",
    "attribute.output": "saída",
    "attribute.pieces": "peças",
    "attribute.plug": "plugue",
    "attribute.power": "alimentação",
    "attribute.remote": "controle remoto",
    "attribute.resolution": "resolução",
    "attribute.safety": "segurança",
    "attribute.size": "tamanho",
    "attribute.size_guide": "tabela de medidas",
    "attribute.sizes": "tamanhos",
    "attribute.voltage": "voltagem",
    "attribute.water_resistance": "resistência à água",
    "attribute.weight": "peso",
    "attribute.wireless_charging": "carregamento sem fio",
    # stages and parties, as spoken inside sentences
    "stage.pickup": "a coleta nacional",
    "stage.export_customs": "a alfândega de exportação",
    "stage.international": "o transporte internacional",
    "stage.import_customs": "a alfândega de importação",
    "stage.last_mile": "a entrega final",
    "party.seller": "o vendedor, ou seja, nós",
    "party.first_mile_carrier": "a transportadora da coleta, {carrier}",
    "party.customs_broker": "o despachante aduaneiro",
    "party.international_carrier": "a transportadora internacional, {carrier}",
    "party.last_mile_courier": "a transportadora da entrega, {courier}",
    "party.shopper": "você, como importador",
    "party.short.seller": "a nossa equipe do depósito",
    "party.short.first_mile_carrier": "a transportadora {carrier}",
    "party.short.customs_broker": "o despachante aduaneiro",
    "party.short.international_carrier": "a transportadora {carrier}",
    "party.short.last_mile_courier": "a transportadora {courier}",
    "party.short.shopper": "a alfândega",
    "incoterm.DDP": "D D P, entrega com impostos pagos",
    "incoterm.DAP": "D A P, entrega no local",
    "incoterm.DDU": "D D U, entrega com impostos não pagos",
    # units
    "unit.day": "{count} dia",
    "unit.days": "{count} dias",
    "unit.hour": "{count} hora",
    "unit.hours": "{count} horas",
    "unit.day_range": "de {low} a {high} dias",
}

_LETTERS = {
    "A": "á", "B": "bê", "C": "cê", "D": "dê", "E": "éh", "F": "éfe", "G": "gê", "H": "agá",
    "I": "i", "J": "jota", "K": "cá", "L": "éle", "M": "ême", "N": "êne", "O": "ó", "P": "pê",
    "Q": "quê", "R": "érre", "S": "ésse", "T": "tê", "U": "u", "V": "vê", "W": "dáblio",
    "X": "xis", "Y": "ípsilon", "Z": "zê",
}  # fmt: skip
"""Letter names, accented as said: a lone capital is read as a word ("E" as "and", "A" as
"the")."""

_MILLIONS = re.compile(r"\b(?:milhão|milhões|bilhão|bilhões)\b")

_FEMININE = frozenset(
    {
        "hora", "horas", "letra", "letras", "vez", "vezes", "semana", "semanas",
        "tentativa", "tentativas", "pessoa", "pessoas",
    }
)  # fmt: skip

_MERGED = {
    "em": {"o": "no", "a": "na", "os": "nos", "as": "nas"},
    "de": {"o": "do", "a": "da", "os": "dos", "as": "das"},
    "por": {"o": "pelo", "a": "pela", "os": "pelos", "as": "pelas"},
    "a": {"o": "ao", "a": "à", "os": "aos", "as": "às"},
}
"""A preposition and the article after it, said as one word ("em a" -> "na")."""

_ARTICLE = re.compile(r"^(os|as|o|a) ")
_WEEKDAY = re.compile(r"^(?:(segunda|terça|quarta|quinta|sexta)-feira|(sábado|domingo))\b")

_NO_ARTICLE = frozenset(
    {
        "Portugal", "Israel", "Cuba", "Angola", "Moçambique", "Cabo Verde", "Timor-Leste",
        "Singapura", "Hong Kong", "Macau", "Malta", "Mônaco", "Andorra", "Chipre", "Honduras",
        "Porto Rico", "Taiwan", "Omã", "Madagascar", "São Tomé e Príncipe", "Mianmar (Birmânia)",
    }
)  # fmt: skip
"""Countries named without an article ("para Portugal", "em Israel")."""

_PLURAL = {"Estados": "os", "Países": "os", "Emirados": "os", "Camarões": "os"}
_PLURAL_FEMININE = ("Filipinas", "Bahamas", "Maldivas", "Ilhas", "Seicheles", "Comores")

_COUNTRY_NAMES = {"HK": "Hong Kong", "MO": "Macau"}
"""Shorter names than Babel's "Hong Kong, RAE da China"."""

_CURRENCY_NAMES = {"BRL": ("real", "reais")}
"""Brazil's own money without "brasileiro": "doze reais"."""


class Portuguese(AgreeingSpeech):
    feminine_nouns = _FEMININE
    function_words = frozenset({"a", "e", "ou", "de", "em", "com", "por", "para", "até"})

    def __init__(self) -> None:
        super().__init__("pt", "pt_BR", TEMPLATES)

    def cardinal(self, value: int, feminine: bool | None) -> str:
        """ "um dia", "dois dias", "uma hora", "duas horas", "duzentas horas"."""
        # Brazil says "quatorze" more than num2words' "catorze" (both are correct).
        words = re.sub(r"\bcatorze\b", "quatorze", str(num2words(value, lang="pt_BR")))
        if not feminine:
            return words
        # Only below the millions: "duzentas mil horas", "dois milhões de horas".
        cut = max((found.end() for found in _MILLIONS.finditer(words)), default=0)
        tail = re.sub(r"\bum\b", "uma", words[cut:])
        tail = re.sub(r"entos\b", "entas", re.sub(r"\bdois\b", "duas", tail))
        return words[:cut] + tail

    def merge(self, before: str, value: str) -> tuple[str, str]:
        """ "em a Alemanha" -> "na Alemanha", "em terça-feira" -> "na terça-feira"."""
        preposition = last_word(before)
        if preposition is None or preposition.group(1).lower() not in _MERGED:
            return before, value
        word = preposition.group(1)
        forms = _MERGED[word.lower()]
        article = _ARTICLE.match(value)
        if article is not None:
            merged, value = forms[article.group(1)], value[article.end() :]
        elif word.lower() == "em" and (weekday := _WEEKDAY.match(value)) is not None:
            merged = forms["a" if weekday.group(1) else "o"]  # "a segunda-feira", "o sábado"
        else:
            return before, value
        merged = merged.capitalize() if word[0].isupper() else merged
        return before[: preposition.start(1)] + merged + " ", value

    def say(self, key: str, **values: object) -> str:
        if isinstance(values.get("place"), str):
            values["place"] = _without_article(str(values["place"]))
        return super().say(key, **values)

    def digit(self, ch: str) -> str:
        return str(num2words(int(ch), lang="pt_BR"))

    def letter(self, ch: str) -> str:
        return _LETTERS.get(ch.upper(), ch.upper())

    def date(self, day: date) -> str:
        """ "terça-feira, dia três de novembro" ("dia primeiro" on the first)."""
        weekday = format_date(day, "EEEE", locale=self.locale)
        month = format_date(day, "MMMM", locale=self.locale)
        number = "primeiro" if day.day == 1 else self.cardinal(day.day, None)
        return f"{weekday}, dia {number} de {month}"

    def time(self, moment: datetime) -> str:
        """ "as quatro da tarde", "a uma e meia da tarde", "o meio-dia", "a meia-noite": with its
        article, for "até {time}"."""
        minutes = {0: "", 30: " e meia"}.get(
            moment.minute, f" e {self.cardinal(moment.minute, None)}"
        )
        if moment.hour == 12:
            return f"o meio-dia{minutes}"
        if moment.hour == 0:
            return f"a meia-noite{minutes}"
        hour = moment.hour % 12
        article = "a" if hour == 1 else "as"
        return f"{article} {self.cardinal(hour, True)}{minutes} {_part_of_day(moment.hour)}"

    def money(self, amount: Decimal, currency: str) -> str:
        """ "doze reais e cinquenta", "uma libra esterlina", "cinquenta centavos"."""
        major = int(amount)
        minor = int((amount - major) * 100)
        if major == 0 and minor:
            return f"{self.cardinal(minor, False)} centavo" + ("s" if minor > 1 else "")
        name = _currency_name(currency, major, self)
        one = _currency_name(currency, 1, self)
        words = self.cardinal(major, one.split()[0].endswith("a"))  # "uma libra", "um euro"
        if words.endswith(("milhão", "milhões")):
            name = f"de {name}"
        if not minor:
            return f"{words} {name}"
        cents = "um centavo" if minor == 1 else self.cardinal(minor, None)
        return f"{words} {name} e {cents}"

    def country(self, code: str) -> str:
        name = _COUNTRY_NAMES.get(code.upper()) or super().country(code)
        if name == code:
            return name  # no name for it: the code as given, without an article
        article = _country_article(name)
        return f"{article} {name}" if article else name


def _country_article(name: str) -> str | None:
    """ "a Alemanha", "o Brasil", "os Estados Unidos", "as Filipinas", Portugal bare."""
    if name in _NO_ARTICLE:
        return None
    first = name.split()[0]
    if first in _PLURAL:
        return _PLURAL[first]
    if first in _PLURAL_FEMININE:
        return "as"
    return "a" if first.endswith("a") else "o"


def _currency_name(currency: str, count: int, speech: Portuguese) -> str:
    if currency in _CURRENCY_NAMES:
        one, many = _CURRENCY_NAMES[currency]
        return one if count == 1 else many
    return str(get_currency_name(currency, count=count, locale=speech.locale)).lower()


def _part_of_day(hour: int) -> str:
    if hour < 5:
        return "da madrugada"
    if hour < 12:
        return "da manhã"
    if hour < 19:
        return "da tarde"
    return "da noite"


def _without_article(place: str) -> str:
    """ "Londres, o Reino Unido" -> "Londres, Reino Unido": a place names its country bare."""
    return re.sub(r",\s+(?:o|a|os|as)\s+", ", ", place)
