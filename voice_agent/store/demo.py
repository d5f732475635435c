"""The demo shop: a seller in southern China shipping to shoppers around the world.

``demo_document(anchor)`` builds a shop file (format voice-agent-shop/1) whose tracking events
are placed relative to ``anchor``, so that on any day the demo has parcels moving on time and
parcels stalled long enough to count as lost in every one of the five stages. The same document
goes through the same validation and import as an operator's file. It is deterministic: the
same anchor gives the same document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from voice_agent.store.shopfile import FORMAT
from voice_agent.store.views import Incoterm, Stage

# --- catalogue ---------------------------------------------------------------------------------

_SHIP_TIMES = {
    "DE": "8 to 12 days",
    "FR": "8 to 12 days",
    "NL": "7 to 11 days",
    "ES": "9 to 14 days",
    "IT": "9 to 14 days",
    "GB": "8 to 13 days",
    "US": "10 to 15 days",
    "CA": "12 to 18 days",
    "AU": "12 to 20 days",
    "SA": "10 to 18 days",
    "BR": "20 to 40 days",
    "default": "10 to 25 days",
}
_EU_WAREHOUSE_TIMES = {
    "DE": "2 to 4 days",
    "NL": "2 to 4 days",
    "FR": "3 to 5 days",
    "ES": "3 to 6 days",
    "IT": "3 to 6 days",
}


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    name: str
    usd: str
    attributes: dict[str, str]
    eu_warehouse: bool = False

    def document(self) -> dict[str, Any]:
        times = {**_SHIP_TIMES, **(_EU_WAREHOUSE_TIMES if self.eu_warehouse else {})}
        ship = {f"ship_time.{country}": days for country, days in times.items()}
        return {"sku": self.sku, "name": self.name, "attributes": {**self.attributes, **ship}}


PRODUCTS: tuple[_Product, ...] = (
    _Product(
        "PB-10K",
        "Slim power bank 10000 mAh",
        "24.90",
        {
            "capacity": "10000 mAh",
            "output": "USB-C Power Delivery, 20 W",
            "compatibility": "iPhone 12 and newer, Android phones and tablets with USB-C",
            "material": "aluminium shell",
            "weight": "210 g",
            "note": "may travel in cabin baggage, not in checked baggage",
        },
    ),
    _Product(
        "CASE-IP15",
        "Clear case for iPhone 15",
        "9.90",
        {
            "compatibility": "iPhone 15 only (not 15 Plus, 15 Pro or 15 Pro Max)",
            "material": "TPU, anti-yellowing",
            "colour": "clear",
            "wireless charging": "works through the case",
        },
    ),
    _Product(
        "EARBUDS-X2",
        "Wireless earbuds X2",
        "39.00",
        {
            "battery": "6 hours, 24 hours with the charging case",
            "bluetooth": "5.3",
            "compatibility": "any phone or laptop with Bluetooth",
            "water resistance": "IPX4, sweat and splashes",
            "colour": "black or white",
        },
    ),
    _Product(
        "LAMP-MOON",
        "Moon lamp 15 cm",
        "29.50",
        {
            "size": "15 cm diameter",
            "material": "PLA, 3D printed",
            "power": "USB, built-in battery 8 hours",
            "colours": "16 colours with remote control",
        },
    ),
    _Product(
        "YOGA-MAT6",
        "Yoga mat 6 mm",
        "27.00",
        {
            "size": "183 x 61 cm, 6 mm thick",
            "material": "TPE, latex-free",
            "weight": "900 g",
            "colour": "sage green, lilac or charcoal",
        },
        eu_warehouse=True,
    ),
    _Product(
        "DRESS-LINEN",
        "Linen summer dress",
        "45.00",
        {
            "sizes": "S, M, L, XL",
            "size guide": "M fits EU 38 to 40, UK 10 to 12, US 6 to 8",
            "material": "100% linen",
            "care": "machine wash cold, hang dry",
            "fit": "relaxed; choose your usual size",
        },
    ),
    _Product(
        "SHOE-RUN",
        "Lightweight running shoes",
        "52.00",
        {
            "sizes": "EU 36 to 46",
            "material": "knit mesh upper, EVA sole",
            "fit": "runs small: order one size up",
            "weight": "230 g per shoe",
        },
    ),
    _Product(
        "BAND-22",
        "Silicone watch band 22 mm",
        "12.50",
        {
            "compatibility": (
                "Samsung Galaxy Watch 4, 5 and 6, Huawei Watch GT, any watch with 22 mm lugs"
            ),
            "material": "soft silicone",
            "size": "fits wrists 140 to 210 mm",
        },
    ),
    _Product(
        "CABLE-C2C",
        "USB-C to USB-C cable 2 m",
        "11.90",
        {
            "length": "2 m",
            "power": "up to 100 W",
            "data": "USB 2.0, 480 Mbit/s",
            "material": "braided nylon",
            "compatibility": "laptops, phones and tablets with USB-C; not Lightning",
        },
    ),
    _Product(
        "LED-STRIP5",
        "RGB LED strip 5 m",
        "19.90",
        {
            "length": "5 m, can be cut every 10 cm",
            "voltage": "12 V adapter included",
            "plug": "EU, UK, US or AU plug, chosen by destination",
            "control": "app and remote",
            "compatibility": "Alexa and Google Home",
        },
    ),
    _Product(
        "BACKPACK-20",
        "Travel backpack 20 L",
        "49.00",
        {
            "size": "45 x 30 x 18 cm, 20 litres",
            "material": "recycled polyester, water-repellent",
            "laptop": "fits laptops up to 15.6 inch",
            "cabin": "fits most airlines' under-seat size",
        },
        eu_warehouse=True,
    ),
    _Product(
        "MUG-350",
        "Ceramic mug 350 ml",
        "14.00",
        {
            "size": "350 ml",
            "material": "stoneware ceramic",
            "care": "dishwasher and microwave safe",
        },
    ),
    _Product(
        "TRIPOD-PH",
        "Phone tripod with remote",
        "21.00",
        {
            "height": "25 to 130 cm",
            "compatibility": "phones 55 to 90 mm wide",
            "remote": "Bluetooth, CR2032 battery included",
        },
    ),
    _Product(
        "SCARF-SILK",
        "Silk scarf 90 cm",
        "34.00",
        {"size": "90 x 90 cm", "material": "100% mulberry silk", "care": "hand wash or dry clean"},
    ),
    _Product(
        "BLOCKS-64",
        "Magnetic building blocks, 64 pieces",
        "38.00",
        {
            "age": "3 years and up",
            "material": "ABS plastic with sealed magnets",
            "safety": "CE and EN 71 tested",
            "pieces": "64",
        },
    ),
    _Product(
        "DASHCAM-HD",
        "Dash cam 1080p",
        "44.00",
        {
            "resolution": "1920 x 1080, 30 frames per second",
            "power": "12 V and 24 V car sockets, cable included",
            "memory": "microSD up to 128 GB, card not included",
            "night vision": "yes",
        },
    ),
)

_USD = {product.sku: Decimal(product.usd) for product in PRODUCTS}
_RATES = {
    "EUR": "0.92",
    "GBP": "0.79",
    "USD": "1",
    "CAD": "1.36",
    "AUD": "1.52",
    "SAR": "3.75",
    "BRL": "5.0",
}


def _price(sku: str, currency: str) -> Decimal:
    # Shop prices end in .99 (or .00 when under 1 in the currency's unit): simple and stable.
    raw = _USD[sku] * Decimal(_RATES[currency])
    return raw.quantize(Decimal(1), rounding=ROUND_HALF_UP) - Decimal("0.01")


# --- the route of a parcel -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    key: str
    stage: Stage
    text: str
    place: str
    """A key into the route's places (``origin``, ``export``, ...)."""
    gap_days: float
    """Typical time since the step before."""


STEPS: tuple[_Step, ...] = (
    _Step("label", "pickup", "Shipping label created, waiting for pickup", "origin", 0.0),
    _Step("picked_up", "pickup", "Picked up from the seller's warehouse", "origin", 1.1),
    _Step("sorted", "pickup", "Processed at the first-mile sorting centre", "origin", 0.4),
    _Step("export_in", "export_customs", "Handed over to export customs", "export", 0.9),
    _Step("export_done", "export_customs", "Export customs clearance completed", "export", 1.2),
    _Step("departed", "international", "Departed from the origin airport", "airport", 1.4),
    _Step("transit", "international", "Arrived at the transit hub", "hub", 0.6),
    _Step("arrived", "international", "Arrived at the destination airport", "arrival", 1.1),
    _Step("import_in", "import_customs", "Arrived at import customs", "customs", 0.3),
    _Step("import_done", "import_customs", "Import customs clearance completed", "customs", 1.4),
    _Step("handed", "last_mile", "Handed over to {last_mile} for delivery", "arrival", 0.5),
    _Step("depot", "last_mile", "Arrived at the local delivery depot", "city", 0.7),
    _Step("out", "last_mile", "Out for delivery", "city", 0.4),
    _Step("delivered", "last_mile", "Delivered", "city", 0.3),
)
_STEP_INDEX = {step.key: index for index, step in enumerate(STEPS)}


@dataclass(frozen=True, slots=True)
class _Destination:
    currency: str
    arrival: str
    customs: str
    hub: str


DESTINATIONS = {
    "DE": _Destination("EUR", "Leipzig, DE", "Leipzig customs office, DE", "Almaty, KZ"),
    "FR": _Destination("EUR", "Paris Charles de Gaulle, FR", "Roissy customs, FR", "Doha, QA"),
    "NL": _Destination("EUR", "Amsterdam Schiphol, NL", "Schiphol customs, NL", "Doha, QA"),
    "ES": _Destination("EUR", "Madrid Barajas, ES", "Madrid customs, ES", "Liège, BE"),
    "IT": _Destination("EUR", "Milan Malpensa, IT", "Milan customs, IT", "Liège, BE"),
    "GB": _Destination("GBP", "London Heathrow, GB", "Heathrow customs, GB", "Dubai, AE"),
    "US": _Destination("USD", "Los Angeles, US", "Los Angeles CBP, US", "Anchorage, US"),
    "CA": _Destination("CAD", "Toronto Pearson, CA", "Mississauga CBSA, CA", "Anchorage, US"),
    "AU": _Destination("AUD", "Sydney, AU", "Sydney Gateway, AU", "Singapore, SG"),
    "SA": _Destination("SAR", "Riyadh, SA", "Riyadh customs, SA", "Dubai, AE"),
    "BR": _Destination("BRL", "São Paulo Guarulhos, BR", "Curitiba customs, BR", "Doha, QA"),
}


@dataclass(frozen=True, slots=True)
class _Customer:
    name: str
    email: str
    phone: str
    postcode: str | None
    country: str
    street: str
    city: str


@dataclass(frozen=True, slots=True)
class _Parcel:
    carrier: str
    last_mile: str | None
    tracking: str
    compensation: bool
    reached: str
    """The key of the last step that happened."""
    age_days: float
    """How long ago that last step happened, before the anchor."""
    last_text: str | None = None
    """What the last event said instead of the usual text (a hold, a failed delivery)."""


@dataclass(frozen=True, slots=True)
class _Order:
    number: str
    customer: _Customer
    items: tuple[tuple[str, int], ...]
    insured: bool
    incoterm: Incoterm
    parcel: _Parcel | None
    placed_days_ago: float = 0.0
    """For orders not yet shipped: when they were placed."""
    returned: tuple[float, float | None] | None = None
    """The shop's return record: (requested, received) in days before the anchor."""
    refund: tuple[str, float] | None = None
    """The shop's refund record for the whole order: (status, days before the anchor)."""


def _c(
    name: str, email: str, phone: str, postcode: str | None, country: str, street: str, city: str
) -> _Customer:
    return _Customer(name, email, phone, postcode, country, street, city)


ANNA = _c(
    "Anna Schmidt",
    "anna.schmidt@example.com",
    "+49 30 5550 1234",
    "10119",
    "DE",
    "Torstraße 120",
    "Berlin",
)
LUKAS = _c(
    "Lukas Weber",
    "l.weber@example.net",
    "+49 89 5550 8871",
    "80331",
    "DE",
    "Sendlinger Straße 7",
    "München",
)
CLAIRE = _c(
    "Claire Dubois",
    "claire.dubois@example.fr",
    "+33 1 55 50 42 17",
    "75011",
    "FR",
    "12 rue Oberkampf",
    "Paris",
)
HUGO = _c(
    "Hugo Martin",
    "hugo.martin@example.com",
    "+33 4 55 50 90 31",
    "69002",
    "FR",
    "8 quai Saint-Antoine",
    "Lyon",
)
OLIVER = _c(
    "Oliver Bennett",
    "oliver.bennett@example.co.uk",
    "+44 20 7946 0321",
    "SW1A 1AA",
    "GB",
    "14 Whitehall Place",
    "London",
)
AMELIA = _c(
    "Amelia Clarke",
    "amelia.c@example.org",
    "+44 161 496 0752",
    "M1 1AE",
    "GB",
    "3 Piccadilly Gardens",
    "Manchester",
)
FIONA = _c(
    "Fiona Campbell",
    "fiona.campbell@example.com",
    "+44 131 496 0188",
    "EH1 1YZ",
    "GB",
    "22 Cockburn Street",
    "Edinburgh",
)
JAMES = _c(
    "James Carter",
    "jcarter@example.com",
    "+1 202 555 0147",
    "94110",
    "US",
    "2150 Mission Street",
    "San Francisco",
)
MARIA = _c(
    "Maria Gonzalez",
    "maria.gonzalez@example.com",
    "+1 305 555 0186",
    "33130",
    "US",
    "1201 Brickell Avenue",
    "Miami",
)
ETHAN = _c(
    "Ethan Brooks",
    "ethan.brooks@example.net",
    "+1 512 555 0119",
    "78701",
    "US",
    "600 Congress Avenue",
    "Austin",
)
LUCIA = _c(
    "Lucía Fernández",
    "lucia.fernandez@example.es",
    "+34 915 550 283",
    "28013",
    "ES",
    "Calle Mayor 21",
    "Madrid",
)
DAAN = _c(
    "Daan de Vries",
    "daan.devries@example.nl",
    "+31 20 555 0164",
    "1012 AB",
    "NL",
    "Damrak 44",
    "Amsterdam",
)
SOPHIE = _c(
    "Sophie Jansen",
    "sophie.jansen@example.com",
    "+31 10 555 0972",
    "3011 AD",
    "NL",
    "Coolsingel 60",
    "Rotterdam",
)
GIULIA = _c(
    "Giulia Rossi",
    "giulia.rossi@example.it",
    "+39 02 5550 3344",
    "20121",
    "IT",
    "Via Brera 9",
    "Milano",
)
JACK = _c(
    "Jack Wilson",
    "jack.wilson@example.com.au",
    "+61 2 5550 4821",
    "2000",
    "AU",
    "88 George Street",
    "Sydney",
)
CHLOE = _c(
    "Chloe Nguyen",
    "chloe.nguyen@example.com",
    "+61 3 5550 7713",
    "3000",
    "AU",
    "230 Collins Street",
    "Melbourne",
)
FAHAD = _c(
    "Fahad Al-Qahtani",
    "fahad.q@example.com",
    "+966 11 555 0192",
    "12211",
    "SA",
    "King Fahd Road 4410",
    "Riyadh",
)
NOURA = _c(
    "Noura Al-Harbi",
    "noura.alharbi@example.net",
    "+966 12 555 0345",
    "21589",
    "SA",
    "Tahlia Street 17",
    "Jeddah",
)
BEATRIZ = _c(
    "Beatriz Souza",
    "beatriz.souza@example.com.br",
    "+55 11 5550 2817",
    "01310-100",
    "BR",
    "Avenida Paulista 1578",
    "São Paulo",
)
RAFAEL = _c(
    "Rafael Lima",
    "rafael.lima@example.com",
    "+55 21 5550 6630",
    "22071-000",
    "BR",
    "Avenida Atlântica 1702",
    "Rio de Janeiro",
)
EMMA = _c(
    "Emma Tremblay",
    "emma.tremblay@example.ca",
    "+1 416 555 0133",
    "M5V 2T6",
    "CA",
    "290 Bremner Boulevard",
    "Toronto",
)

_HOLD_DUTY = "Held at import customs: duties and taxes to be paid by the recipient"
_HOLD_SELLER = "Held at import customs: documents requested from the sender"
_EXPORT_HOLD = "Export declaration under review: contents description requested"
_NOT_HOME = "Delivery attempted: recipient not at home, card left"
_NEIGHBOUR = "Delivered: left with a neighbour at number 16"

# Every stage has orders moving on time and orders stalled for long (insured and not);
# plus delivered orders, orders not yet shipped, DDP and DAP, and eleven destinations.
ORDERS: tuple[_Order, ...] = (
    # not shipped yet (the address can still change)
    _Order("10231", ANNA, (("YOGA-MAT6", 1),), False, "DDP", None, placed_days_ago=0.4),
    _Order(
        "10232",
        OLIVER,
        (("BACKPACK-20", 1), ("MUG-350", 2)),
        True,
        "DDP",
        None,
        placed_days_ago=1.2,
    ),
    # pickup
    _Order(
        "10457",
        LUKAS,
        (("PB-10K", 1),),
        False,
        "DDP",
        _Parcel("YunExpress", "DHL", "YT2412345678901", True, "label", 0.3),
    ),
    _Order(
        "10458",
        JAMES,
        (("EARBUDS-X2", 1), ("CABLE-C2C", 1)),
        False,
        "DAP",
        _Parcel("4PX", "USPS", "4PX3001234567CN", False, "picked_up", 1.0),
    ),
    _Order(
        "10459",
        CLAIRE,
        (("DRESS-LINEN", 2),),
        True,
        "DDP",
        _Parcel("Cainiao", "La Poste", "LP00456789012CN", True, "picked_up", 9.0),
    ),
    _Order(
        "10460",
        ETHAN,
        (("DASHCAM-HD", 1),),
        False,
        "DAP",
        _Parcel("China Post", "USPS", "LX123456789CN", False, "sorted", 11.0),
    ),
    # export customs
    _Order(
        "20786",
        SOPHIE,
        (("LED-STRIP5", 2),),
        False,
        "DDP",
        _Parcel("Cainiao", "PostNL", "CNNLD0098765432", True, "export_in", 0.5),
    ),
    _Order(
        "20787",
        FAHAD,
        (("PB-10K", 2), ("CABLE-C2C", 2)),
        True,
        "DAP",
        _Parcel("Aramex", "SPL", "ARX5550123987", True, "export_in", 13.0, _EXPORT_HOLD),
    ),
    _Order(
        "20788",
        GIULIA,
        (("SCARF-SILK", 1),),
        False,
        "DDP",
        _Parcel("YunExpress", "Poste Italiane", "YT2413377001122", False, "export_done", 12.0),
    ),
    _Order(
        "20789",
        EMMA,
        (("TRIPOD-PH", 1),),
        False,
        "DAP",
        _Parcel("4PX", "Canada Post", "4PX3005550021CN", False, "export_done", 1.2),
    ),
    # international transport
    _Order(
        "31144",
        AMELIA,
        (("SHOE-RUN", 1),),
        True,
        "DDP",
        _Parcel("YunExpress", "Royal Mail", "YT2419988776655", True, "departed", 1.5),
    ),
    _Order(
        "31145",
        JACK,
        (("BLOCKS-64", 1), ("LAMP-MOON", 1)),
        True,
        "DAP",
        _Parcel("China Post", "Australia Post", "RR987654321CN", False, "transit", 21.0),
    ),
    _Order(
        "31146",
        MARIA,
        (("CASE-IP15", 3),),
        False,
        "DAP",
        _Parcel("Cainiao", "UPS", "CNUSUP00112233", True, "transit", 24.0),
    ),
    _Order(
        "31147",
        LUCIA,
        (("BACKPACK-20", 1),),
        False,
        "DDP",
        _Parcel("4PX", "Correos", "4PX3009871234CN", True, "arrived", 0.8),
    ),
    _Order(
        "31148",
        NOURA,
        (("EARBUDS-X2", 1),),
        False,
        "DAP",
        _Parcel("China Post", "SPL", "LX556677889CN", False, "departed", 19.0),
    ),
    # import customs
    _Order(
        "45067",
        BEATRIZ,
        (("SHOE-RUN", 1), ("BAND-22", 1)),
        False,
        "DAP",
        _Parcel("China Post", "Correios", "LX998877665CN", False, "import_in", 17.0, _HOLD_DUTY),
    ),
    _Order(
        "45068",
        HUGO,
        (("LAMP-MOON", 1),),
        True,
        "DDP",
        _Parcel("Cainiao", "La Poste", "CNFRLP7788990011", True, "import_in", 16.0, _HOLD_SELLER),
    ),
    _Order(
        "45069",
        ANNA,
        (("CABLE-C2C", 1), ("PB-10K", 1)),
        False,
        "DDP",
        _Parcel("YunExpress", "DHL", "YT2415566778899", True, "import_in", 0.6),
    ),
    _Order(
        "45070",
        CHLOE,
        (("YOGA-MAT6", 1),),
        False,
        "DAP",
        _Parcel("4PX", "Australia Post", "4PX3004455667CN", False, "import_in", 1.5, _HOLD_DUTY),
    ),
    _Order(
        "45071",
        RAFAEL,
        (("DASHCAM-HD", 1),),
        True,
        "DAP",
        _Parcel("China Post", "Correios", "LX443322110CN", False, "import_done", 1.0),
    ),
    # last mile
    _Order(
        "47700",
        OLIVER,
        (("EARBUDS-X2", 1),),
        False,
        "DDP",
        _Parcel("YunExpress", "Royal Mail", "YT2417700470001", True, "out", 0.2),
    ),
    _Order(
        "47701",
        DAAN,
        (("PB-10K", 1), ("CASE-IP15", 1)),
        True,
        "DDP",
        _Parcel("Cainiao", "PostNL", "CNNLD0047701000", True, "depot", 10.0),
    ),
    _Order(
        "47702",
        JAMES,
        (("BACKPACK-20", 1),),
        False,
        "DAP",
        _Parcel("4PX", "UPS", "1Z999AA10123456784", False, "handed", 12.0),
    ),
    _Order(
        "47703",
        FIONA,
        (("SCARF-SILK", 2),),
        True,
        "DDP",
        _Parcel("China Post", "Royal Mail", "RR112233445CN", False, "out", 1.0, _NOT_HOME),
    ),
    _Order(
        "47704",
        LUCIA,
        (("MUG-350", 4),),
        False,
        "DDP",
        _Parcel("YunExpress", "Correos", "YT2414770400012", True, "depot", 0.9),
    ),
    # delivered
    _Order(
        "58812",
        CLAIRE,
        (("BAND-22", 1),),
        False,
        "DDP",
        _Parcel("Cainiao", "La Poste", "CNFRLP5881200001", True, "delivered", 3.0),
    ),
    _Order(
        "58813",
        MARIA,
        (("TRIPOD-PH", 1), ("LED-STRIP5", 1)),
        False,
        "DAP",
        _Parcel("4PX", "USPS", "9400100000000058813", False, "delivered", 6.0),
    ),
    _Order(
        "58814",
        AMELIA,
        (("MUG-350", 2),),
        False,
        "DDP",
        _Parcel("YunExpress", "Royal Mail", "YT2415881400002", True, "delivered", 1.0),
    ),
    _Order(
        "58815",
        EMMA,
        (("LAMP-MOON", 1),),
        True,
        "DAP",
        _Parcel("DHL eCommerce", "Canada Post", "GM5881500001234", True, "delivered", 8.0),
    ),
    # delivered, then returned: refund paid, refund approved, return on its way back
    _Order(
        "58816",
        GIULIA,
        (("DRESS-LINEN", 1),),
        False,
        "DDP",
        _Parcel("YunExpress", "Poste Italiane", "YT2415881600016", True, "delivered", 25.0),
        returned=(20.0, 12.0),
        refund=("paid", 5.0),
    ),
    _Order(
        "58817",
        SOPHIE,
        (("SHOE-RUN", 1),),
        False,
        "DDP",
        _Parcel("Cainiao", "PostNL", "CNNLD0058817000", True, "delivered", 18.0),
        returned=(14.0, 4.0),
        refund=("approved", 2.0),
    ),
    _Order(
        "58818",
        ETHAN,
        (("LED-STRIP5", 1),),
        False,
        "DAP",
        _Parcel("4PX", "USPS", "9400100000000058818", False, "delivered", 9.0),
        returned=(3.0, None),
    ),
    # delivered, left with a neighbour (the scan says where)
    _Order(
        "58819",
        HUGO,
        (("MUG-350", 1), ("BAND-22", 1)),
        False,
        "DDP",
        _Parcel("Cainiao", "La Poste", "CNFRLP5881900019", True, "delivered", 2.0, _NEIGHBOUR),
    ),
)


# --- building the document --------------------------------------------------------------------


def demo_document(anchor: datetime) -> dict[str, Any]:
    """The demo shop as a voice-agent-shop/1 document, its times relative to ``anchor``."""
    if anchor.tzinfo is None:
        raise ValueError("the demo anchor needs a time zone")
    return {
        "format": FORMAT,
        "products": [product.document() for product in PRODUCTS],
        "orders": [_order_document(order, anchor) for order in ORDERS],
    }


def _time(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _order_document(order: _Order, anchor: datetime) -> dict[str, Any]:
    customer = order.customer
    destination = DESTINATIONS[customer.country]
    events = [] if order.parcel is None else _events(order, anchor)
    if events:
        placed_at = events[0][0] - timedelta(days=1.3)
    else:
        placed_at = anchor - timedelta(days=order.placed_days_ago)
    document: dict[str, Any] = {
        "number": order.number,
        "placed_at": _time(placed_at),
        "currency": destination.currency,
        "insured": order.insured,
        "incoterm": order.incoterm,
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "postcode": customer.postcode,
            "country": customer.country,
            "address": f"{customer.street}, {customer.city}",
        },
        "items": [
            {"sku": sku, "qty": qty, "price": _price(sku, destination.currency)}
            for sku, qty in order.items
        ],
        "shipment": None,
    }
    if order.parcel is not None:
        parcel = order.parcel
        expected = placed_at + timedelta(days=_promised_days(customer.country))
        document["shipment"] = {
            "carrier": parcel.carrier,
            "last_mile": parcel.last_mile,
            "tracking": parcel.tracking,
            "compensation": parcel.compensation,
            "expected_delivery": expected.date().isoformat(),
            "events": [
                {"at": _time(at), "stage": stage, "place": place, "text": text}
                for at, stage, place, text in events
            ],
        }
    if order.returned is not None:
        requested, received = order.returned
        document["returns"] = [
            {
                "requested_at": _time(anchor - timedelta(days=requested)),
                "received_at": None
                if received is None
                else _time(anchor - timedelta(days=received)),
            }
        ]
    if order.refund is not None:
        status, days = order.refund
        total = sum(
            (_price(sku, destination.currency) * qty for sku, qty in order.items), Decimal(0)
        )
        document["refunds"] = [
            {"amount": total, "status": status, "at": _time(anchor - timedelta(days=days))}
        ]
    return document


def _promised_days(country: str) -> int:
    window = _SHIP_TIMES.get(country, _SHIP_TIMES["default"])
    return int(window.split()[2])


def _events(order: _Order, anchor: datetime) -> list[tuple[datetime, Stage, str, str]]:
    parcel = order.parcel
    assert parcel is not None
    last = _STEP_INDEX[parcel.reached]
    places = _places(order)
    # A small per-order offset keeps the demo's timestamps from all sharing one clock time.
    wobble = (int(order.number) % 7) * 0.04
    at = anchor - timedelta(days=parcel.age_days)
    events: list[tuple[datetime, Stage, str, str]] = []
    for index in range(last, -1, -1):
        step = STEPS[index]
        text = step.text.format(last_mile=parcel.last_mile or parcel.carrier)
        if index == last and parcel.last_text is not None:
            text = parcel.last_text
        events.append((at, step.stage, places[step.place], text))
        at -= timedelta(days=step.gap_days + wobble)
    events.reverse()
    return events


_ORIGINS = (
    ("Shenzhen, CN", "Shenzhen Huanggang customs, CN", "Hong Kong, HK"),
    ("Yiwu, CN", "Yiwu export office, CN", "Shanghai Pudong, CN"),
    ("Guangzhou, CN", "Guangzhou Baiyun customs, CN", "Guangzhou Baiyun, CN"),
)


def _places(order: _Order) -> dict[str, str]:
    origin, export, airport = _ORIGINS[int(order.number) % len(_ORIGINS)]
    destination = DESTINATIONS[order.customer.country]
    return {
        "origin": origin,
        "export": export,
        "airport": airport,
        "hub": destination.hub,
        "arrival": destination.arrival,
        "customs": destination.customs,
        "city": f"{order.customer.city}, {order.customer.country}",
    }
