"""The demo network and the words its people write: regions, locations, accounts, comments.

Texts of shoppers and reviewers are in the language of the checklist they fill ("en" or "ru").
"""
DOMAIN = "demo.example.com"
#: Shared by every demo account and printed by the command: demo data is for trying the app only.
PASSWORD = "fieldaudit-demo"  # noqa: S105
#: The account whose presence means "the demo data is loaded".
MARKER_EMAIL = f"admin@{DOMAIN}"

REGIONS = [
    # code, name, IANA time zone: three of Russia's eleven zones, ten hours apart at the ends
    ("MSK", "Москва", "Europe/Moscow"),
    ("KGD", "Калининград", "Europe/Kaliningrad"),
    ("VVO", "Владивосток", "Asia/Vladivostok"),
]

#: code, region, kind (store | bank), name, address, latitude, longitude, base quality, trend per month,
#: person in charge (owner of corrective actions)
LOCATIONS = [
    ("MSK-01", "MSK", "store", "Тверская", "ул. Тверская, 12, стр. 1, Москва", 55.7616, 37.6090, 0.90, 0.005,
     "Светлана Егорова"),
    ("MSK-02", "MSK", "store", "Арбат", "ул. Арбат, 24, Москва", 55.7502, 37.5934, 0.78, 0.025, "Олег Фёдоров"),
    ("MSK-03", "MSK", "store", "ТЦ «Европейский»", "пл. Киевского Вокзала, 2, Москва", 55.7446, 37.5660,
     0.70, -0.02, "Наталья Белова"),
    ("MSK-04", "MSK", "store", "Бауманская", "ул. Бауманская, 35/1, Москва", 55.7730, 37.6790, 0.84, 0.0,
     "Артём Киселёв"),
    ("MSK-B1", "MSK", "bank", "Отделение «Маросейка»", "ул. Маросейка, 7/8, Москва", 55.7575, 37.6362, 0.80,
     0.01, "Марина Гусева"),
    ("KGD-01", "KGD", "store", "Ленинский проспект", "Ленинский пр., 30, Калининград", 54.7104, 20.5101, 0.93,
     0.0, "Андрей Павлов"),
    ("KGD-02", "KGD", "store", "ТЦ «Европа»", "ул. Театральная, 30, Калининград", 54.7183, 20.4990,
     0.62, 0.035, "Ксения Орлова"),
    ("KGD-03", "KGD", "store", "Московский проспект", "Московский пр., 40, Калининград", 54.7090, 20.5280, 0.75,
     -0.015, "Роман Зайцев"),
    ("KGD-B1", "KGD", "bank", "Отделение «Площадь Победы»", "пл. Победы, 10, Калининград", 54.7218, 20.4957,
     0.68, 0.02, "Вера Николаева"),
    ("VVO-01", "VVO", "store", "Светланская", "ул. Светланская, 29, Владивосток", 43.1163, 131.8855, 0.86, 0.01,
     "Рустам Хайруллин"),
    ("VVO-02", "VVO", "store", "ТЦ «Clover House»", "ул. Семёновская, 15, Владивосток", 43.1190, 131.8820,
     0.57, 0.03, "Алия Сафина"),
    ("VVO-B1", "VVO", "bank", "Отделение «Алеутская»", "ул. Алеутская, 17, Владивосток", 43.1155, 131.8815,
     0.88, -0.01, "Ильдар Гарипов"),
]

#: key, email local part, name, role, shopper code, regions (managers) or home regions (shoppers)
USERS = [
    ("admin", "admin", "Ольга Петрова", "admin", None, ()),
    ("quality", "quality", "Ирина Волкова", "manager", None, ()),
    ("kgd", "kgd.manager", "Дмитрий Соколов", "manager", None, ("KGD",)),
    ("s1", "shopper1", "Анна Смирнова", "shopper", "MS-001", ("MSK",)),
    ("s2", "shopper2", "Игорь Кузнецов", "shopper", "MS-002", ("MSK",)),
    ("s3", "shopper3", "Мария Лебедева", "shopper", "MS-003", ("KGD",)),
    ("s4", "shopper4", "Алексей Морозов", "shopper", "MS-004", ("KGD", "VVO")),
    ("s5", "shopper5", "Елена Новикова", "shopper", "MS-005", ("VVO",)),
]

#: Which checklist each kind of location is audited with, and how many visits per month.
PLAN = {
    "store": [("retail-store-visit", 2), ("phone-call", 1)],
    "bank": [("bank-branch-ru", 2)],
}

INSTRUCTIONS = {
    "retail-store-visit": "Play a customer looking for a gift of about 5 000 ₽ for a 10-year-old. Ask for advice, "
                          "compare two products, say \"it is too expensive\" once, buy something small if you can.",
    "phone-call": "Call the store's line between 11:00 and 18:00 and ask how to return headphones bought online "
                  "20 days ago. Time the call with your stopwatch.",
    "bank-branch-ru": "Сценарий: хотите открыть вклад на 300 000 ₽ на год. Спросите о вариантах, договор не "
                      "подписывайте. Засеките время ожидания секундомером.",
}

#: Shoppers' comments on answers that lost points, by question id; "*" for any other question.
FAIL_COMMENTS = {
    "en": {
        "greeted_30s": [
            "Two staff members were chatting at the till and did not look up for about a minute.",
            "Nobody greeted me; a consultant came over only after 2 minutes.",
            "The greeting came after about 45 seconds, from the cashier across the room.",
        ],
        "open_questions": [
            "The consultant went straight to the most expensive item without asking who the gift was for.",
            "Only asked \"what price?\" and then showed the shelf.",
        ],
        "fitting_offer": [
            "Offered the current bestseller although I said the gift was for a 10-year-old.",
            "Nothing was suggested: I was told to \"have a look around\".",
        ],
        "misleading_info": [
            "Told me the warranty is 3 years; the manufacturer gives 1 year.",
            "Said there was a 30% discount \"today only\"; the price tag showed the usual price.",
        ],
        "receipt_given": [
            "The cashier did not hand over a receipt and did not offer an electronic one.",
        ],
        "price_tags": [
            "Two headphones on the top shelf had no price tags.",
            "The tag on the gift set said 3 490 ₽, the till charged 3 990 ₽.",
        ],
        "time_to_answer": [
            "Waited 2 min 40 s with music after the menu ended.",
            "The line was busy twice; on the third call I waited over a minute.",
        ],
        "identity_check": [
            "Asked for my full card number before I gave the order number.",
        ],
        "answer_quality": [
            "Said returns are only possible in a store, not by courier; did not mention the refund time.",
            "Gave the deadline but not how long the refund takes.",
        ],
        "wrong_info": [
            "Said the return period is 14 days instead of 30.",
        ],
        "*": [
            "Did not happen during my visit.",
            "The staff member seemed rushed and distracted.",
            "Only partly: the consultant was called away halfway through.",
            "The consultant was busy with another customer and did not come back.",
        ],
    },
    "ru": {
        "waiting_time": [
            "Ждала 22 минуты, работало одно окно из четырёх.",
            "Очередь двигалась медленно, два окна были закрыты на обед.",
            "Терминал выдал талон, но табло не работало, вызов пропустила бы, если бы не охранник.",
        ],
        "greeted": [
            "Сотрудник молча кивнул и продолжил печатать.",
            "Поздоровался только после того, как я сказала «Здравствуйте».",
        ],
        "rate_explained": [
            "Назвали ставку, но не объяснили про капитализацию процентов.",
            "Ставку пришлось уточнять самой, сотрудник долго искал её на экране.",
        ],
        "insurance_forced": [
            "Сказали, что без полиса страхования жизни ставка будет ниже и вклад «лучше не открывать».",
            "Настойчиво предлагали ИСЖ вместо вклада, утверждали, что рисков нет.",
        ],
        "data_disclosed": [
            "На столе лежала копия паспорта предыдущего клиента.",
            "Сотрудник вслух назвал ФИО и сумму вклада предыдущей клиентки.",
        ],
        "*": [
            "Сотрудник торопился и отвечал односложно.",
            "Этого не было.",
            "Частично: сотрудника отвлекли коллеги.",
        ],
    },
}

#: What made a visit's comment its own: added when the comment alone would repeat another visit's word for word.
COMMENT_DETAILS = {
    "en": [
        "It was just after lunch and the store was half empty.",
        "A delivery was being unpacked right next to the till.",
        "Only one consultant was on the floor at that time.",
        "The manager was on the phone in the back room.",
        "Three customers were queuing behind me.",
        "It had been raining and the entrance mat was soaked.",
        "The music near the entrance was very loud.",
        "A school group had just come in.",
        "The consultant wore a badge but no name was on it.",
        "The staff were rearranging the window display.",
        "The card terminal at the second till was out of order.",
        "It was the last hour before closing.",
        "A colleague kept calling the consultant to the stockroom.",
        "The air conditioning was off and it was stuffy.",
        "Two staff members were restocking the shelves in my aisle.",
        "The queue at the till was longer than usual.",
    ],
    "ru": [
        "Было сразу после обеда, клиентов почти не было.",
        "У стойки разгружали коробки с документами.",
        "В зале работал только один сотрудник.",
        "Руководитель отделения разговаривал по телефону в кабинете.",
        "За мной в очереди стояли ещё трое.",
        "Шёл дождь, у входа было мокро и скользко.",
        "Терминал электронной очереди зависал.",
        "В зале было шумно: шёл ремонт в соседнем помещении.",
        "На бейдже сотрудника не было имени.",
        "Сотрудники обсуждали между собой график отпусков.",
        "Одно из окон закрылось на технический перерыв.",
        "Это был последний час перед закрытием.",
        "Сотрудника несколько раз отвлекали звонками.",
        "Кондиционер не работал, было душно.",
        "Охранник стоял у входа и ни с кем не разговаривал.",
        "Очередь была длиннее обычного.",
    ],
}

#: Answers to text questions, by question id; "*" for other text questions.
TEXTS = {
    "en": {
        "no_purchase_reason": [
            "The product I wanted was out of stock.",
            "Wanted to compare prices online first.",
            "The queue at the till was too long.",
        ],
        "poor_impression_details": [
            "Nobody helped me for several minutes and the consultant was dismissive.",
            "Untidy shelves, wrong price tags and a long queue.",
        ],
        "notes": [
            "A delivery was being unpacked in the aisle, hard to get through.",
            "Music was very loud near the entrance.",
            "Two consultants for a full store on Saturday afternoon.",
        ],
        "call_notes": [
            "Agent: you can return it within 30 days, keep the box and the receipt, or book a courier on the "
            "website. Refund within 10 days.",
            "Agent checked the order number, explained the courier return and sent an SMS with the link.",
            "Agent was unsure and put me on hold twice to ask a colleague.",
        ],
        "*": [
            "Nothing else to report.",
            "Busy time of day.",
        ],
    },
    "ru": {
        "recommend_reason": [
            "Долгое ожидание и равнодушный сотрудник.",
            "Навязывали страховку, пришлось отказываться трижды.",
            "Ничего толком не объяснили, дали только буклет.",
        ],
        "comments": [
            "В зале было душно, кондиционер не работал.",
            "Охранник помог разобраться с терминалом очереди.",
            "В зоне ожидания не хватало стульев.",
        ],
        "*": [
            "Без замечаний.",
        ],
    },
}

#: What a reviewer writes when sending a visit back.
RETURN_COMMENTS = {
    "en": "Please add how long you waited (stopwatch) and explain why the product offer did not fit.",
    "ru": "Уточните, пожалуйста, время ожидания по секундомеру и приложите фото стенда целиком.",
}

#: Corrective actions: what the location must do about a failed question.
ACTIONS = {
    "en": {
        "greeted_30s": "Brief the team: greet every customer within 30 seconds, even when busy at the till.",
        "price_tags": "Check every price tag on the gift shelves each morning; report the check to the area manager.",
        "misleading_info": "Retrain the consultant on warranty terms and promotions; check with a repeat visit.",
        "receipt_given": "Remind cashiers that a receipt is always handed over or sent electronically.",
        "open_questions": "Role-play needs discovery (who is it for, budget, occasion) at the morning meeting.",
        "fitting_offer": "Coach consultants to link the offer to the stated needs; repeat visit in a month.",
        "time_to_answer": "Review staffing of the phone line at peak hours.",
        "answer_quality": "Share the return-policy cheat sheet with everyone who answers the phone.",
        "*": "Discuss the finding with the team and report what was changed.",
    },
    "ru": {
        "waiting_time": "Пересмотреть график обедов: в часы пик должны работать не менее трёх окон.",
        "insurance_forced": "Провести инструктаж по продаже вкладов без навязывания страховых продуктов; "
                            "повторная проверка через месяц.",
        "data_disclosed": "Проверить соблюдение политики «чистого стола» и провести инструктаж по защите данных.",
        "rate_explained": "Провести тренинг по объяснению условий вкладов (ставка, капитализация, досрочное снятие).",
        "greeted": "Напомнить сотрудникам стандарт приветствия клиентов.",
        "*": "Разобрать замечание с коллективом и сообщить о принятых мерах.",
    },
}

#: Customer survey comments, by mood.
SURVEY_COMMENTS = {
    "ru": {
        "good": ["Очень вежливый консультант, всё объяснил.", "Быстро и удобно, спасибо!",
                 "Помогли выбрать подарок, приду ещё."],
        "bad": ["Долго ждал, никто не подошёл.", "Ценники не совпадают с ценой на кассе.",
                "Консультант был занят телефоном."],
    },
    "en": {
        "good": ["Friendly staff, quick service.", "Found exactly what I needed."],
        "bad": ["Long queue and only one till open.", "Nobody could answer my question."],
    },
}
