package corpus

// morePools are the phrase pools of the spam shapes added in session 5
// (stock promotion, loans, dating, shop offers, crypto investment), by
// language and shape. Like every pool, each alternates its entries
// between the development and the held-out part.
type morePools struct{ subj, body []string }

var moreSpam = map[string]map[string]morePools{
	"en": {
		"stock": {
			subj: []string{"This small cap is about to explode", "Investor alert: new ticker added today", "Get in before the announcement", "Our top pick for this week"},
			body: []string{
				"Shares of this company are trading far below their real value.",
				"Our analysts expect the price to triple within the next ten days.",
				"A major partnership will be announced on Monday, act before the market opens.",
				"Volume has doubled every day this week and insiders are buying.",
				"This report is a paid advertisement and not investment advice.",
				"Do not miss the next big winner, add it to your watch list now.",
			}},
		"loan": {
			subj: []string{"You are pre-approved for a loan", "Lower your monthly payments today", "Cash in your account within 24 hours", "Refinance now at record low rates"},
			body: []string{
				"Bad credit or no credit, everyone is approved.",
				"Get up to 50,000 deposited directly into your account tomorrow.",
				"Rates have never been this low, lock in your rate before it rises.",
				"Fill in the short form and a loan officer will call you today.",
				"Stop paying too much interest and consolidate all your bills into one payment.",
				"No paperwork, no fees, no questions asked.",
			}},
		"dating": {
			subj: []string{"hi, are you there?", "I saw your profile", "lonely tonight?", "my photos for you"},
			body: []string{
				"Hi dear, I found your address on a site and decided to write.",
				"I am new in town and looking for someone to talk to.",
				"I uploaded some private photos to my page, you can see them here.",
				"I am 27 and I like travel, music and quiet evenings.",
				"Write me back and I will tell you more about me.",
				"Hot singles in your area are waiting to meet you tonight.",
			}},
		"shop": {
			subj: []string{"Designer watches at 90% off", "Clearance: everything must go", "Software at a fraction of the price", "Exclusive deal for our valued customers"},
			body: []string{
				"Luxury watches and bags at prices you will not believe.",
				"Download the full office suite today for only 39.95.",
				"All items ship free and arrive in a discreet package.",
				"Stocks are limited, order before midnight to get the discount.",
				"Genuine quality, thousands of satisfied customers.",
				"Buy two and get the third one free, this week only.",
			}},
		"crypto": {
			subj: []string{"Turn 250 into 10,000 in a month", "The crypto platform banks don't want you to know about", "Your bitcoin profit is waiting", "Passive income starts today"},
			body: []string{
				"Our trading robot makes profits for you while you sleep.",
				"Members earn between 3% and 5% every single day.",
				"Start with a small deposit and withdraw your profit at any time.",
				"A famous investor revealed this method on television last week.",
				"Places are limited, register now to reserve your spot.",
				"Your account manager will guide you step by step.",
			}},
	},
	"de": {
		"stock": {
			subj: []string{"Diese Aktie steht vor dem Durchbruch", "Börsenbrief: neuer Geheimtipp", "Jetzt einsteigen vor der Meldung", "Unser Favorit der Woche"},
			body: []string{
				"Die Aktie wird weit unter ihrem wahren Wert gehandelt.",
				"Unsere Analysten erwarten eine Verdreifachung des Kurses in zehn Tagen.",
				"Am Montag wird eine große Partnerschaft bekannt gegeben, handeln Sie vor Börsenbeginn.",
				"Das Volumen hat sich jeden Tag verdoppelt und Insider kaufen.",
				"Dieser Bericht ist eine bezahlte Werbung und keine Anlageberatung.",
				"Verpassen Sie nicht den nächsten großen Gewinner.",
			}},
		"loan": {
			subj: []string{"Ihr Kredit ist vorab genehmigt", "Senken Sie noch heute Ihre Raten", "Geld auf Ihrem Konto in 24 Stunden", "Umschulden zu Rekordzinsen"},
			body: []string{
				"Auch ohne Schufa, jeder wird genehmigt.",
				"Bis zu 50.000 Euro direkt morgen auf Ihrem Konto.",
				"Die Zinsen waren nie so niedrig, sichern Sie sich Ihren Zins.",
				"Füllen Sie das kurze Formular aus und ein Berater ruft Sie heute an.",
				"Fassen Sie alle Ihre Rechnungen zu einer Rate zusammen.",
				"Keine Unterlagen, keine Gebühren, keine Fragen.",
			}},
		"dating": {
			subj: []string{"hallo, bist du da?", "ich habe dein Profil gesehen", "einsam heute Abend?", "meine Fotos für dich"},
			body: []string{
				"Hallo Schatz, ich habe deine Adresse auf einer Seite gefunden.",
				"Ich bin neu in der Stadt und suche jemanden zum Reden.",
				"Ich habe private Fotos auf meine Seite gestellt, schau sie dir hier an.",
				"Ich bin 27 und mag Reisen, Musik und ruhige Abende.",
				"Schreib mir zurück und ich erzähle dir mehr über mich.",
				"Singles in deiner Nähe warten heute Abend auf dich.",
			}},
		"shop": {
			subj: []string{"Designeruhren mit 90% Rabatt", "Räumungsverkauf: alles muss raus", "Software zum Bruchteil des Preises", "Exklusives Angebot für unsere Kunden"},
			body: []string{
				"Luxusuhren und Taschen zu unglaublichen Preisen.",
				"Laden Sie das komplette Office-Paket heute für nur 39,95 herunter.",
				"Alle Artikel werden kostenlos und diskret verpackt geliefert.",
				"Der Vorrat ist begrenzt, bestellen Sie vor Mitternacht.",
				"Echte Qualität, tausende zufriedene Kunden.",
				"Kaufen Sie zwei und erhalten Sie das dritte gratis.",
			}},
		"crypto": {
			subj: []string{"Aus 250 werden 10.000 in einem Monat", "Die Krypto-Plattform, die Banken verschweigen", "Ihr Bitcoin-Gewinn wartet", "Passives Einkommen ab heute"},
			body: []string{
				"Unser Handelsroboter macht Gewinne, während Sie schlafen.",
				"Mitglieder verdienen jeden Tag zwischen 3% und 5%.",
				"Beginnen Sie mit einer kleinen Einzahlung und heben Sie jederzeit ab.",
				"Ein bekannter Investor hat die Methode letzte Woche im Fernsehen verraten.",
				"Die Plätze sind begrenzt, registrieren Sie sich jetzt.",
				"Ihr persönlicher Betreuer führt Sie Schritt für Schritt.",
			}},
	},
	"fr": {
		"stock": {
			subj: []string{"Cette petite valeur va exploser", "Alerte investisseur : nouvelle valeur", "Entrez avant l'annonce", "Notre choix de la semaine"},
			body: []string{
				"L'action se négocie bien en dessous de sa vraie valeur.",
				"Nos analystes prévoient un triplement du cours en dix jours.",
				"Un grand partenariat sera annoncé lundi, agissez avant l'ouverture.",
				"Le volume double chaque jour et les initiés achètent.",
				"Ce rapport est une publicité payée et non un conseil en placement.",
				"Ne manquez pas le prochain grand gagnant.",
			}},
		"loan": {
			subj: []string{"Votre prêt est pré-approuvé", "Baissez vos mensualités aujourd'hui", "De l'argent sur votre compte en 24 heures", "Rachat de crédit à taux record"},
			body: []string{
				"Même fiché, tout le monde est accepté.",
				"Jusqu'à 50 000 euros versés demain sur votre compte.",
				"Les taux n'ont jamais été aussi bas, bloquez votre taux maintenant.",
				"Remplissez le court formulaire et un conseiller vous rappelle aujourd'hui.",
				"Regroupez toutes vos factures en une seule mensualité.",
				"Aucun justificatif, aucun frais, aucune question.",
			}},
		"dating": {
			subj: []string{"coucou, tu es là ?", "j'ai vu ton profil", "seul ce soir ?", "mes photos pour toi"},
			body: []string{
				"Coucou, j'ai trouvé ton adresse sur un site et j'ai voulu t'écrire.",
				"Je suis nouvelle en ville et je cherche quelqu'un à qui parler.",
				"J'ai mis des photos privées sur ma page, regarde-les ici.",
				"J'ai 27 ans et j'aime les voyages, la musique et les soirées calmes.",
				"Réponds-moi et je t'en dirai plus sur moi.",
				"Des célibataires près de chez vous vous attendent ce soir.",
			}},
		"shop": {
			subj: []string{"Montres de créateurs à -90%", "Liquidation totale", "Logiciels à une fraction du prix", "Offre exclusive pour nos clients"},
			body: []string{
				"Montres et sacs de luxe à des prix incroyables.",
				"Téléchargez la suite bureautique complète pour seulement 39,95.",
				"Livraison gratuite et colis discret.",
				"Stock limité, commandez avant minuit pour la remise.",
				"Qualité authentique, des milliers de clients satisfaits.",
				"Achetez-en deux, le troisième est offert.",
			}},
		"crypto": {
			subj: []string{"Transformez 250 en 10 000 en un mois", "La plateforme crypto que les banques cachent", "Votre gain en bitcoin vous attend", "Revenus passifs dès aujourd'hui"},
			body: []string{
				"Notre robot de trading gagne pour vous pendant que vous dormez.",
				"Les membres gagnent entre 3% et 5% chaque jour.",
				"Commencez avec un petit dépôt et retirez vos gains à tout moment.",
				"Un investisseur célèbre a révélé cette méthode à la télévision.",
				"Les places sont limitées, inscrivez-vous maintenant.",
				"Votre gestionnaire de compte vous guide pas à pas.",
			}},
	},
	"es": {
		"stock": {
			subj: []string{"Esta pequeña empresa va a despegar", "Alerta para inversores: nueva acción", "Entre antes del anuncio", "Nuestra recomendación de la semana"},
			body: []string{
				"La acción cotiza muy por debajo de su valor real.",
				"Nuestros analistas esperan que el precio se triplique en diez días.",
				"El lunes se anunciará una gran alianza, actúe antes de la apertura.",
				"El volumen se duplica cada día y los directivos están comprando.",
				"Este informe es publicidad pagada y no es asesoramiento financiero.",
				"No se pierda el próximo gran ganador.",
			}},
		"loan": {
			subj: []string{"Su préstamo está preaprobado", "Reduzca hoy sus cuotas mensuales", "Dinero en su cuenta en 24 horas", "Refinancie ahora a tipos mínimos"},
			body: []string{
				"Aunque esté en ASNEF, todos son aprobados.",
				"Hasta 50.000 euros ingresados mañana en su cuenta.",
				"Los tipos nunca han estado tan bajos, asegure su tipo ahora.",
				"Rellene el breve formulario y un asesor le llamará hoy.",
				"Reúna todas sus deudas en una sola cuota.",
				"Sin papeleo, sin comisiones, sin preguntas.",
			}},
		"dating": {
			subj: []string{"hola, ¿estás ahí?", "vi tu perfil", "¿solo esta noche?", "mis fotos para ti"},
			body: []string{
				"Hola cariño, encontré tu dirección en una página y decidí escribirte.",
				"Soy nueva en la ciudad y busco a alguien con quien hablar.",
				"Subí unas fotos privadas a mi página, míralas aquí.",
				"Tengo 27 años y me gustan los viajes, la música y las noches tranquilas.",
				"Contéstame y te cuento más sobre mí.",
				"Solteros de tu zona te esperan esta noche.",
			}},
		"shop": {
			subj: []string{"Relojes de diseño con 90% de descuento", "Liquidación total", "Software a una fracción del precio", "Oferta exclusiva para nuestros clientes"},
			body: []string{
				"Relojes y bolsos de lujo a precios increíbles.",
				"Descargue hoy el paquete de oficina completo por solo 39,95.",
				"Envío gratis en un paquete discreto.",
				"Existencias limitadas, pida antes de medianoche.",
				"Calidad auténtica, miles de clientes satisfechos.",
				"Compre dos y llévese el tercero gratis.",
			}},
		"crypto": {
			subj: []string{"Convierta 250 en 10.000 en un mes", "La plataforma cripto que los bancos ocultan", "Su ganancia en bitcoin le espera", "Ingresos pasivos desde hoy"},
			body: []string{
				"Nuestro robot de trading gana dinero mientras usted duerme.",
				"Los miembros ganan entre un 3% y un 5% cada día.",
				"Empiece con un pequeño depósito y retire sus ganancias cuando quiera.",
				"Un inversor famoso reveló este método en televisión la semana pasada.",
				"Las plazas son limitadas, regístrese ahora.",
				"Su gestor de cuenta le guiará paso a paso.",
			}},
	},
	"ja": {
		"stock": {
			subj: []string{"この小型株が急騰間近", "投資家速報：注目銘柄を追加", "発表前に仕込むチャンス", "今週の推奨銘柄"},
			body: []string{
				"この会社の株価は本来の価値を大きく下回っています。",
				"アナリストは十日以内に株価が三倍になると予想しています。",
				"月曜日に大型提携が発表されます、取引開始前にご検討ください。",
				"出来高は今週毎日倍増しており、関係者が買い増しています。",
				"本レポートは広告であり、投資助言ではありません。",
				"次の大化け銘柄を見逃さないでください。",
			}},
		"loan": {
			subj: []string{"ご融資の事前審査に通過しました", "毎月の返済額を今日から減らせます", "最短24時間でお振込み", "過去最低金利で借り換え"},
			body: []string{
				"ブラックの方でも審査に通ります。",
				"最大500万円を明日ご指定の口座にお振込みします。",
				"金利がこれほど低いことはありません、今すぐ金利を確定してください。",
				"簡単なフォームに入力すると担当者から本日お電話します。",
				"複数の借入をひとつの返済にまとめられます。",
				"書類不要、手数料無料、理由は問いません。",
			}},
		"dating": {
			subj: []string{"こんにちは、いますか？", "プロフィール見ました", "今夜さみしくない？", "あなたへの写真"},
			body: []string{
				"こんにちは、あるサイトであなたのアドレスを見つけて連絡しました。",
				"最近この街に来たばかりで、話し相手を探しています。",
				"私のページに秘密の写真をのせたので見てください。",
				"27歳で、旅行と音楽と静かな夜が好きです。",
				"返事をくれたらもっと私のことを教えます。",
				"近くの女性が今夜あなたを待っています。",
			}},
		"shop": {
			subj: []string{"ブランド腕時計が90%オフ", "在庫一掃セール", "ソフトウェアが格安価格", "お得意様限定のご案内"},
			body: []string{
				"高級腕時計とバッグが信じられない価格で手に入ります。",
				"オフィスソフト一式が今日だけ3980円でダウンロードできます。",
				"全品送料無料、中身が分からない梱包でお届けします。",
				"在庫に限りがあります、今夜中にご注文ください。",
				"本物の品質、多くのお客様にご満足いただいています。",
				"二点ご購入で三点目を無料でお付けします。",
			}},
		"crypto": {
			subj: []string{"1か月で2万5千円が100万円に", "銀行が教えない仮想通貨の仕組み", "ビットコインの利益が届いています", "今日から始める不労所得"},
			body: []string{
				"自動売買ロボットが寝ている間も利益を出します。",
				"会員は毎日3%から5%の利益を得ています。",
				"少額の入金から始めて、いつでも出金できます。",
				"有名投資家が先週テレビでこの方法を明かしました。",
				"募集人数に限りがあります、今すぐ登録してください。",
				"専任の担当者が一つずつご案内します。",
			}},
	},
	"ko": {
		"stock": {
			subj: []string{"이 종목 곧 급등합니다", "투자 속보: 신규 추천 종목", "발표 전에 매수하세요", "이번 주 추천주"},
			body: []string{
				"이 회사 주가는 실제 가치보다 훨씬 낮게 거래되고 있습니다.",
				"분석가들은 열흘 안에 주가가 세 배가 될 것으로 봅니다.",
				"월요일에 대형 제휴가 발표됩니다, 장 시작 전에 움직이세요.",
				"거래량이 이번 주 매일 두 배로 늘고 있고 내부자가 사고 있습니다.",
				"이 보고서는 유료 광고이며 투자 권유가 아닙니다.",
				"다음 대박 종목을 놓치지 마세요.",
			}},
		"loan": {
			subj: []string{"대출 사전 승인되셨습니다", "오늘부터 월 상환액을 줄이세요", "24시간 안에 입금", "최저 금리로 갈아타기"},
			body: []string{
				"신용 등급이 낮아도 누구나 승인됩니다.",
				"최대 5천만 원을 내일 고객님 계좌로 입금해 드립니다.",
				"금리가 이렇게 낮은 적이 없습니다, 지금 금리를 확정하세요.",
				"간단한 신청서를 작성하시면 상담원이 오늘 전화드립니다.",
				"여러 대출을 하나로 묶어 한 번에 갚으세요.",
				"서류 없이, 수수료 없이, 묻지 않습니다.",
			}},
		"dating": {
			subj: []string{"안녕, 거기 있어?", "프로필 봤어요", "오늘 밤 외로워?", "당신을 위한 사진"},
			body: []string{
				"안녕하세요, 어떤 사이트에서 주소를 보고 연락드려요.",
				"이 도시에 온 지 얼마 안 돼서 이야기할 사람을 찾고 있어요.",
				"제 페이지에 비공개 사진을 올렸으니 여기서 보세요.",
				"저는 27살이고 여행과 음악과 조용한 저녁을 좋아해요.",
				"답장 주시면 저에 대해 더 알려 드릴게요.",
				"근처의 싱글들이 오늘 밤 당신을 기다립니다.",
			}},
		"shop": {
			subj: []string{"명품 시계 90% 할인", "재고 정리 대방출", "소프트웨어 초특가", "우수 고객 전용 혜택"},
			body: []string{
				"명품 시계와 가방을 믿을 수 없는 가격에 드립니다.",
				"오피스 프로그램 전체를 오늘만 39,000원에 내려받으세요.",
				"전 상품 무료 배송, 내용물이 보이지 않게 포장합니다.",
				"수량이 한정되어 있으니 오늘 밤까지 주문하세요.",
				"정품 품질, 수많은 고객이 만족했습니다.",
				"두 개 사시면 하나 더 드립니다.",
			}},
		"crypto": {
			subj: []string{"한 달 만에 25만 원이 천만 원으로", "은행이 알려 주지 않는 코인 플랫폼", "비트코인 수익이 기다립니다", "오늘부터 시작하는 부수입"},
			body: []string{
				"자동 매매 로봇이 주무시는 동안에도 수익을 냅니다.",
				"회원들은 매일 3%에서 5%의 수익을 얻고 있습니다.",
				"소액 입금으로 시작하고 언제든지 출금하세요.",
				"유명 투자자가 지난주 방송에서 이 방법을 공개했습니다.",
				"모집 인원이 한정되어 있습니다, 지금 가입하세요.",
				"전담 매니저가 하나하나 안내해 드립니다.",
			}},
	},
	"zh": {
		"stock": {
			subj: []string{"这只小盘股即将暴涨", "投资快讯：新增推荐股票", "公告前抢先买入", "本周精选股票"},
			body: []string{
				"这家公司的股价远低于其真实价值。",
				"分析师预计股价将在十天内翻三倍。",
				"周一将宣布重大合作，请在开盘前行动。",
				"本周成交量每天翻倍，内部人士正在买入。",
				"本报告为付费广告，不构成投资建议。",
				"不要错过下一只大牛股。",
			}},
		"loan": {
			subj: []string{"您的贷款已预先批准", "今天就降低您的月供", "二十四小时内到账", "以历史最低利率转贷"},
			body: []string{
				"信用不好也能通过审核。",
				"最高五十万元明天直接打入您的账户。",
				"利率从未如此之低，请立即锁定您的利率。",
				"填写简短表格，顾问今天就会给您打电话。",
				"把所有欠款合并成一笔月供。",
				"无需材料，无手续费，不问用途。",
			}},
		"dating": {
			subj: []string{"你好，在吗？", "我看到你的资料了", "今晚寂寞吗？", "给你的照片"},
			body: []string{
				"你好，我在一个网站上看到你的地址，就想给你写信。",
				"我刚来这个城市，想找个人聊聊天。",
				"我在我的页面上放了私密照片，点这里看。",
				"我二十七岁，喜欢旅行、音乐和安静的夜晚。",
				"回信给我，我再告诉你更多。",
				"你附近的单身女性今晚在等你。",
			}},
		"shop": {
			subj: []string{"名牌手表一折起", "清仓大甩卖", "正版软件超低价", "老客户专享优惠"},
			body: []string{
				"奢华手表和包包，价格让你不敢相信。",
				"全套办公软件今天只需三十九元即可下载。",
				"全场包邮，隐秘包装送货上门。",
				"库存有限，请在今晚十二点前下单。",
				"品质保证，已有数千位满意的顾客。",
				"买二送一，仅限本周。",
			}},
		"crypto": {
			subj: []string{"一个月把两千五变成十万", "银行不想让你知道的数字货币平台", "您的比特币收益正在等待", "从今天开始被动收入"},
			body: []string{
				"我们的交易机器人在您睡觉时为您赚钱。",
				"会员每天赚取百分之三到百分之五的收益。",
				"小额入金即可开始，随时提取收益。",
				"一位著名投资人上周在电视上透露了这个方法。",
				"名额有限，请立即注册。",
				"您的专属客户经理会一步一步指导您。",
			}},
	},
}
