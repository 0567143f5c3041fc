package corpus

// morePools are the phrase pools of the spam shapes added in session 5
// (stock promotion, loans, dating, shop offers, crypto investment), by
// language and shape. Like every pool, each alternates its entries
// between the development and the held-out part.
type morePools struct{ subj, body []string }

var moreSpam = map[string]map[string]morePools{
	"en": {
		"work": {
			subj: []string{"Work from home and earn 5,000 a month", "Be your own boss starting today", "Only 2 hours a day from your kitchen table", "Join our team, no experience needed"},
			body: []string{
				"Thousands of people are already earning a full income from home.",
				"You only need a computer and an internet connection.",
				"Our proven system does all the work, you just follow the steps.",
				"Recruit three friends and your earnings grow every month.",
				"This is not a get rich quick scheme, it is a real business opportunity.",
				"Reply today and we will send you the free information pack.",
			}},
		"lottery": {
			subj: []string{"Congratulations, your email address has won", "Final notification of your prize", "You are our lucky winner", "Claim your reward before Friday"},
			body: []string{
				"Your email address was selected in our international draw.",
				"You have won the sum of 850,000 in the second category.",
				"To claim your prize, contact our claims agent with your reference number.",
				"A small processing fee is required before the payment can be released.",
				"Keep this notice confidential until your claim is processed.",
				"Winners who do not respond within seven days lose their prize.",
			}},
		"seo": {
			subj: []string{"Top ranking on Google guaranteed", "Your website is losing customers", "We send your ad to 10 million people", "Get 1000 new visitors every day"},
			body: []string{
				"We noticed that your website does not appear on the first page of search results.",
				"Our experts will bring your site to the top in thirty days or you pay nothing.",
				"We deliver your advertisement to millions of verified addresses.",
				"Targeted traffic means more sales for your business.",
				"Reply with your website address for a free analysis.",
				"Prices start at only 99 per month.",
			}},
		"parcel": {
			subj: []string{"Your parcel could not be delivered", "Delivery notice: action required", "You have a new voice message", "Shipment on hold: customs fee unpaid"},
			body: []string{
				"We were unable to deliver your package because the address is incomplete.",
				"Please open the attached form and confirm your details.",
				"A customs fee of 2.99 must be paid before delivery.",
				"Your parcel will be returned to the sender if you do not respond within 48 hours.",
				"The attached file contains your delivery label.",
				"You received a voice message, listen to it in the attachment.",
			}},
		"casino": {
			subj: []string{"Your 500 welcome bonus is ready", "Free spins waiting for you", "Play tonight, win big", "VIP invitation to our online casino"},
			body: []string{
				"Sign up today and we double your first deposit.",
				"Spin the wheel for free and keep everything you win.",
				"Our players won more than two million last month.",
				"Play poker, roulette and slots from your phone.",
				"Cash out your winnings instantly, no limits.",
				"This exclusive offer ends at midnight.",
			}},
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
		"work": {
			subj: []string{"Von zu Hause 5.000 im Monat verdienen", "Ab heute Ihr eigener Chef", "Nur 2 Stunden am Tag vom Küchentisch", "Werden Sie Teil unseres Teams, keine Erfahrung nötig"},
			body: []string{
				"Tausende verdienen schon ein volles Einkommen von zu Hause.",
				"Sie brauchen nur einen Computer und einen Internetanschluss.",
				"Unser bewährtes System erledigt die Arbeit, Sie folgen nur den Schritten.",
				"Werben Sie drei Freunde und Ihr Verdienst wächst jeden Monat.",
				"Dies ist kein Schneeballsystem, sondern eine echte Geschäftschance.",
				"Antworten Sie heute und wir senden Ihnen das kostenlose Infopaket.",
			}},
		"lottery": {
			subj: []string{"Glückwunsch, Ihre E-Mail-Adresse hat gewonnen", "Letzte Benachrichtigung über Ihren Gewinn", "Sie sind unser glücklicher Gewinner", "Fordern Sie Ihre Prämie bis Freitag an"},
			body: []string{
				"Ihre E-Mail-Adresse wurde in unserer internationalen Ziehung ausgewählt.",
				"Sie haben die Summe von 850.000 in der zweiten Gewinnklasse gewonnen.",
				"Wenden Sie sich mit Ihrer Referenznummer an unseren Sachbearbeiter.",
				"Vor der Auszahlung ist eine kleine Bearbeitungsgebühr zu zahlen.",
				"Behandeln Sie diese Mitteilung vertraulich, bis Ihr Anspruch bearbeitet ist.",
				"Gewinner, die nicht innerhalb von sieben Tagen antworten, verlieren ihren Gewinn.",
			}},
		"seo": {
			subj: []string{"Top-Platzierung bei Google garantiert", "Ihre Website verliert Kunden", "Wir senden Ihre Werbung an 10 Millionen Menschen", "Täglich 1000 neue Besucher"},
			body: []string{
				"Ihre Website erscheint nicht auf der ersten Seite der Suchergebnisse.",
				"Unsere Experten bringen Ihre Seite in dreißig Tagen nach oben oder Sie zahlen nichts.",
				"Wir stellen Ihre Werbung Millionen geprüfter Adressen zu.",
				"Gezielter Verkehr bedeutet mehr Umsatz für Ihr Geschäft.",
				"Antworten Sie mit Ihrer Webadresse für eine kostenlose Analyse.",
				"Preise ab nur 99 im Monat.",
			}},
		"parcel": {
			subj: []string{"Ihr Paket konnte nicht zugestellt werden", "Zustellbenachrichtigung: Handlung erforderlich", "Sie haben eine neue Sprachnachricht", "Sendung angehalten: Zollgebühr unbezahlt"},
			body: []string{
				"Wir konnten Ihr Paket nicht zustellen, da die Adresse unvollständig ist.",
				"Bitte öffnen Sie das angehängte Formular und bestätigen Sie Ihre Daten.",
				"Vor der Zustellung ist eine Zollgebühr von 2,99 zu zahlen.",
				"Ihr Paket geht an den Absender zurück, wenn Sie nicht innerhalb von 48 Stunden antworten.",
				"Die angehängte Datei enthält Ihr Versandetikett.",
				"Sie haben eine Sprachnachricht erhalten, hören Sie sie im Anhang an.",
			}},
		"casino": {
			subj: []string{"Ihr Willkommensbonus von 500 ist bereit", "Freispiele warten auf Sie", "Heute Abend spielen, groß gewinnen", "VIP-Einladung in unser Online-Casino"},
			body: []string{
				"Melden Sie sich heute an und wir verdoppeln Ihre erste Einzahlung.",
				"Drehen Sie kostenlos und behalten Sie alles, was Sie gewinnen.",
				"Unsere Spieler haben letzten Monat mehr als zwei Millionen gewonnen.",
				"Spielen Sie Poker, Roulette und Slots auf Ihrem Handy.",
				"Lassen Sie sich Ihre Gewinne sofort auszahlen, ohne Limit.",
				"Dieses exklusive Angebot endet um Mitternacht.",
			}},
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
		"work": {
			subj: []string{"Gagnez 5 000 par mois depuis chez vous", "Devenez votre propre patron dès aujourd'hui", "Seulement 2 heures par jour depuis votre cuisine", "Rejoignez notre équipe, sans expérience"},
			body: []string{
				"Des milliers de personnes gagnent déjà un revenu complet depuis chez elles.",
				"Il vous suffit d'un ordinateur et d'une connexion internet.",
				"Notre système éprouvé fait tout le travail, vous suivez les étapes.",
				"Parrainez trois amis et vos gains augmentent chaque mois.",
				"Ce n'est pas une arnaque, c'est une vraie opportunité d'affaires.",
				"Répondez aujourd'hui et nous vous enverrons la documentation gratuite.",
			}},
		"lottery": {
			subj: []string{"Félicitations, votre adresse e-mail a gagné", "Dernière notification de votre gain", "Vous êtes notre heureux gagnant", "Réclamez votre prix avant vendredi"},
			body: []string{
				"Votre adresse e-mail a été tirée au sort lors de notre tirage international.",
				"Vous avez gagné la somme de 850 000 dans la deuxième catégorie.",
				"Pour réclamer votre prix, contactez notre agent avec votre numéro de référence.",
				"Des frais de dossier modestes sont requis avant le versement.",
				"Gardez cet avis confidentiel jusqu'au traitement de votre demande.",
				"Les gagnants qui ne répondent pas sous sept jours perdent leur prix.",
			}},
		"seo": {
			subj: []string{"Première place sur Google garantie", "Votre site perd des clients", "Nous envoyons votre publicité à 10 millions de personnes", "1000 nouveaux visiteurs par jour"},
			body: []string{
				"Votre site n'apparaît pas sur la première page des résultats de recherche.",
				"Nos experts placent votre site en tête en trente jours ou vous ne payez rien.",
				"Nous diffusons votre publicité à des millions d'adresses vérifiées.",
				"Un trafic ciblé signifie plus de ventes pour votre entreprise.",
				"Répondez avec l'adresse de votre site pour une analyse gratuite.",
				"Tarifs à partir de 99 par mois seulement.",
			}},
		"parcel": {
			subj: []string{"Votre colis n'a pas pu être livré", "Avis de livraison : action requise", "Vous avez un nouveau message vocal", "Envoi bloqué : frais de douane impayés"},
			body: []string{
				"Nous n'avons pas pu livrer votre colis car l'adresse est incomplète.",
				"Veuillez ouvrir le formulaire joint et confirmer vos informations.",
				"Des frais de douane de 2,99 doivent être payés avant la livraison.",
				"Votre colis sera renvoyé à l'expéditeur sans réponse sous 48 heures.",
				"Le fichier joint contient votre étiquette de livraison.",
				"Vous avez reçu un message vocal, écoutez-le en pièce jointe.",
			}},
		"casino": {
			subj: []string{"Votre bonus de bienvenue de 500 est prêt", "Des tours gratuits vous attendent", "Jouez ce soir, gagnez gros", "Invitation VIP dans notre casino en ligne"},
			body: []string{
				"Inscrivez-vous aujourd'hui et nous doublons votre premier dépôt.",
				"Faites tourner la roue gratuitement et gardez tous vos gains.",
				"Nos joueurs ont gagné plus de deux millions le mois dernier.",
				"Jouez au poker, à la roulette et aux machines à sous sur votre téléphone.",
				"Retirez vos gains instantanément, sans limite.",
				"Cette offre exclusive se termine à minuit.",
			}},
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
		"work": {
			subj: []string{"Gane 5.000 al mes desde casa", "Sea su propio jefe desde hoy", "Solo 2 horas al día desde la mesa de su cocina", "Únase a nuestro equipo, sin experiencia"},
			body: []string{
				"Miles de personas ya ganan un sueldo completo desde casa.",
				"Solo necesita un ordenador y conexión a internet.",
				"Nuestro sistema probado hace todo el trabajo, usted solo sigue los pasos.",
				"Invite a tres amigos y sus ganancias crecen cada mes.",
				"No es un esquema para hacerse rico rápido, es una oportunidad de negocio real.",
				"Responda hoy y le enviaremos la información gratuita.",
			}},
		"lottery": {
			subj: []string{"Felicidades, su dirección de correo ha ganado", "Notificación final de su premio", "Usted es nuestro afortunado ganador", "Reclame su premio antes del viernes"},
			body: []string{
				"Su dirección de correo fue seleccionada en nuestro sorteo internacional.",
				"Ha ganado la suma de 850.000 en la segunda categoría.",
				"Para reclamar su premio, contacte con nuestro agente con su número de referencia.",
				"Se requiere una pequeña tasa de tramitación antes del pago.",
				"Mantenga este aviso en secreto hasta que se tramite su reclamación.",
				"Los ganadores que no respondan en siete días pierden su premio.",
			}},
		"seo": {
			subj: []string{"Primer puesto en Google garantizado", "Su web está perdiendo clientes", "Enviamos su anuncio a 10 millones de personas", "1000 visitas nuevas cada día"},
			body: []string{
				"Su web no aparece en la primera página de los resultados de búsqueda.",
				"Nuestros expertos llevan su web arriba en treinta días o no paga nada.",
				"Entregamos su anuncio a millones de direcciones verificadas.",
				"Tráfico dirigido significa más ventas para su negocio.",
				"Responda con la dirección de su web para un análisis gratuito.",
				"Precios desde solo 99 al mes.",
			}},
		"parcel": {
			subj: []string{"No se pudo entregar su paquete", "Aviso de entrega: acción necesaria", "Tiene un nuevo mensaje de voz", "Envío retenido: tasa de aduana pendiente"},
			body: []string{
				"No pudimos entregar su paquete porque la dirección está incompleta.",
				"Abra el formulario adjunto y confirme sus datos.",
				"Debe pagar una tasa de aduana de 2,99 antes de la entrega.",
				"Su paquete se devolverá al remitente si no responde en 48 horas.",
				"El archivo adjunto contiene su etiqueta de envío.",
				"Ha recibido un mensaje de voz, escúchelo en el adjunto.",
			}},
		"casino": {
			subj: []string{"Su bono de bienvenida de 500 está listo", "Giros gratis le esperan", "Juegue esta noche, gane a lo grande", "Invitación VIP a nuestro casino en línea"},
			body: []string{
				"Regístrese hoy y duplicamos su primer depósito.",
				"Gire la ruleta gratis y quédese con todo lo que gane.",
				"Nuestros jugadores ganaron más de dos millones el mes pasado.",
				"Juegue al póquer, la ruleta y las tragaperras desde su móvil.",
				"Retire sus ganancias al instante, sin límites.",
				"Esta oferta exclusiva termina a medianoche.",
			}},
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
		"work": {
			subj: []string{"在宅で月50万円を稼ぐ方法", "今日からあなたも社長に", "1日2時間、自宅でできるお仕事", "未経験者歓迎、チームに参加しませんか"},
			body: []string{
				"すでに何千人もの人が自宅で十分な収入を得ています。",
				"必要なのはパソコンとインターネット接続だけです。",
				"実績のあるシステムがすべてを行い、あなたは手順に従うだけです。",
				"友達を三人紹介すると毎月の収入が増えていきます。",
				"これは怪しい話ではなく、本物のビジネスチャンスです。",
				"今日ご返信いただければ無料の資料をお送りします。",
			}},
		"lottery": {
			subj: []string{"おめでとうございます、あなたのアドレスが当選しました", "賞金に関する最終のお知らせ", "あなたが幸運の当選者です", "金曜日までに賞金をお受け取りください"},
			body: []string{
				"あなたのメールアドレスが国際抽選で選ばれました。",
				"第二等として8500万円が当たりました。",
				"賞金の受け取りには、参照番号を添えて担当者にご連絡ください。",
				"お支払いの前に少額の手数料が必要です。",
				"手続きが終わるまでこのお知らせは内密にしてください。",
				"七日以内にご連絡のない場合、当選は無効になります。",
			}},
		"seo": {
			subj: []string{"検索順位1位を保証します", "あなたのサイトは顧客を逃しています", "御社の広告を1000万人にお届け", "毎日1000人の新規訪問者"},
			body: []string{
				"御社のサイトは検索結果の1ページ目に表示されていません。",
				"専門家が三十日で上位に表示させます、成果がなければ料金はいただきません。",
				"確認済みの数百万のアドレスに広告をお届けします。",
				"狙った集客で売上が伸びます。",
				"無料診断をご希望の方はサイトのアドレスをご返信ください。",
				"料金は月額9800円からです。",
			}},
		"parcel": {
			subj: []string{"お荷物をお届けできませんでした", "配達のお知らせ：ご対応が必要です", "新しい留守番電話メッセージがあります", "関税未払いのため配送を保留しています"},
			body: []string{
				"住所が不完全なため、お荷物をお届けできませんでした。",
				"添付のフォームを開いてお客様情報をご確認ください。",
				"配達の前に関税300円のお支払いが必要です。",
				"48時間以内にご対応がない場合、お荷物は差出人に返送されます。",
				"添付ファイルに配送ラベルが入っています。",
				"留守番電話メッセージが届いています、添付ファイルでお聞きください。",
			}},
		"casino": {
			subj: []string{"5万円の入会ボーナスをご用意しました", "無料スピンがあなたを待っています", "今夜遊んで大きく当てよう", "オンラインカジノへのVIPご招待"},
			body: []string{
				"本日ご登録いただくと初回入金を倍にします。",
				"無料でルーレットを回して、当たった分はすべてあなたのものです。",
				"先月、当カジノのプレイヤーは二億円以上を獲得しました。",
				"ポーカー、ルーレット、スロットをスマホで楽しめます。",
				"賞金はすぐに上限なしで出金できます。",
				"この特別なご案内は今夜十二時で終了します。",
			}},
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
		"work": {
			subj: []string{"재택으로 월 500만 원 벌기", "오늘부터 사장님이 되세요", "하루 2시간, 집에서 하는 부업", "경력 무관, 함께할 분을 찾습니다"},
			body: []string{
				"이미 수천 명이 집에서 충분한 수입을 올리고 있습니다.",
				"컴퓨터와 인터넷만 있으면 됩니다.",
				"검증된 시스템이 모든 일을 하고 당신은 단계만 따라 하면 됩니다.",
				"친구 세 명을 소개하면 수입이 매달 늘어납니다.",
				"이것은 다단계가 아니라 진짜 사업 기회입니다.",
				"오늘 답장 주시면 무료 안내 자료를 보내 드립니다.",
			}},
		"lottery": {
			subj: []string{"축하합니다, 고객님의 이메일 주소가 당첨되었습니다", "당첨금 최종 안내", "행운의 당첨자로 선정되셨습니다", "금요일까지 상금을 신청하세요"},
			body: []string{
				"고객님의 이메일 주소가 국제 추첨에서 선정되었습니다.",
				"2등으로 8억 5천만 원에 당첨되셨습니다.",
				"상금을 받으시려면 참조 번호와 함께 담당자에게 연락하세요.",
				"지급 전에 소액의 처리 수수료가 필요합니다.",
				"처리가 끝날 때까지 이 안내를 비밀로 해 주세요.",
				"7일 안에 답하지 않으면 당첨이 취소됩니다.",
			}},
		"seo": {
			subj: []string{"검색 1위 보장합니다", "귀사 홈페이지가 고객을 놓치고 있습니다", "광고를 천만 명에게 보내 드립니다", "매일 방문자 1000명 증가"},
			body: []string{
				"귀사 홈페이지가 검색 결과 첫 페이지에 나오지 않습니다.",
				"전문가가 30일 안에 상위에 올려 드리며 효과가 없으면 비용을 받지 않습니다.",
				"확인된 수백만 개의 주소로 광고를 발송해 드립니다.",
				"정확한 타깃 방문자가 매출을 올려 줍니다.",
				"무료 진단을 원하시면 홈페이지 주소를 답장으로 보내 주세요.",
				"월 9만 9천 원부터 시작합니다.",
			}},
		"parcel": {
			subj: []string{"택배를 배송하지 못했습니다", "배송 안내: 확인이 필요합니다", "새 음성 메시지가 도착했습니다", "관세 미납으로 배송이 보류되었습니다"},
			body: []string{
				"주소가 불완전하여 택배를 배송하지 못했습니다.",
				"첨부된 양식을 열어 정보를 확인해 주세요.",
				"배송 전에 관세 3,000원을 결제하셔야 합니다.",
				"48시간 안에 확인하지 않으시면 택배는 보낸 분께 반송됩니다.",
				"첨부 파일에 운송장이 들어 있습니다.",
				"음성 메시지가 도착했습니다, 첨부 파일로 들어 보세요.",
			}},
		"casino": {
			subj: []string{"50만 원 가입 보너스가 준비되었습니다", "무료 스핀이 기다립니다", "오늘 밤 게임하고 크게 따세요", "온라인 카지노 VIP 초대"},
			body: []string{
				"오늘 가입하시면 첫 입금액을 두 배로 드립니다.",
				"무료로 돌리고 딴 금액은 모두 가져가세요.",
				"지난달 회원들이 20억 원 넘게 땄습니다.",
				"포커, 룰렛, 슬롯을 휴대폰으로 즐기세요.",
				"당첨금은 한도 없이 즉시 출금됩니다.",
				"이 특별 혜택은 오늘 자정에 끝납니다.",
			}},
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
		"work": {
			subj: []string{"在家月入五万的方法", "从今天起自己当老板", "每天只需两小时在家工作", "无需经验，欢迎加入我们的团队"},
			body: []string{
				"已经有成千上万的人在家获得了全职收入。",
				"您只需要一台电脑和网络连接。",
				"我们成熟的系统完成所有工作，您只需按步骤操作。",
				"推荐三位朋友，您的收入每月都会增长。",
				"这不是快速致富的骗局，而是真正的商业机会。",
				"今天回复，我们将免费寄给您详细资料。",
			}},
		"lottery": {
			subj: []string{"恭喜，您的电子邮件地址中奖了", "关于您奖金的最后通知", "您是我们的幸运得主", "请在周五前领取您的奖金"},
			body: []string{
				"您的电子邮件地址在我们的国际抽奖中被选中。",
				"您获得了二等奖，奖金八十五万元。",
				"请携带您的参考编号联系我们的理赔专员领取奖金。",
				"付款前需要支付少量手续费。",
				"在处理完成之前，请对本通知保密。",
				"七天内未回复的中奖者将失去奖金。",
			}},
		"seo": {
			subj: []string{"保证百度排名第一", "您的网站正在流失客户", "我们把您的广告发给一千万人", "每天新增一千名访客"},
			body: []string{
				"您的网站没有出现在搜索结果的第一页。",
				"我们的专家三十天内让您的网站排到前面，无效不收费。",
				"我们将您的广告投递到数百万个经过验证的地址。",
				"精准流量意味着更多的销售额。",
				"回复您的网址即可获得免费分析。",
				"价格每月仅需九十九元起。",
			}},
		"parcel": {
			subj: []string{"您的包裹无法投递", "投递通知：需要您处理", "您有一条新的语音留言", "包裹被扣留：关税未付"},
			body: []string{
				"由于地址不完整，我们无法投递您的包裹。",
				"请打开附件中的表格并确认您的信息。",
				"投递前需要支付二十元关税。",
				"如果四十八小时内没有回复，包裹将退回寄件人。",
				"附件中有您的快递面单。",
				"您收到一条语音留言，请在附件中收听。",
			}},
		"casino": {
			subj: []string{"您的五百元新人红包已到账", "免费旋转等着您", "今晚来玩，赢大奖", "网上娱乐城贵宾邀请"},
			body: []string{
				"今天注册，我们将您的首次存款翻倍。",
				"免费转动轮盘，赢到的全部归您。",
				"上个月我们的玩家赢取了两百多万元。",
				"用手机就能玩扑克、轮盘和老虎机。",
				"奖金即时提现，没有限额。",
				"此专属优惠今晚十二点结束。",
			}},
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
