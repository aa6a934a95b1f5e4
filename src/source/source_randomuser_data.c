/*
 * source_randomuser_data.c — the word lists behind spate randomuser.
 *
 * One spate_ru_nat_t per nationality of the randomuser.me 1.4 API (AU BR CA
 * CH DE DK ES FI FR GB IE IN IR MX NL NO NZ RS TR UA US, in that order), and
 * the lists shared by all of them: username words, common passwords, female
 * titles and time zones. See source_randomuser_data.h for the structures and
 * shared/reference/seed-reference.md §6 for the facts they follow.
 *
 * The lists were written for spate. They are realistic but invented
 * selections of common first names, surnames, streets, cities and
 * regions of each country, chosen from general knowledge; they are not
 * copied from randomuser.me or from any other project.
 *
 * A name in a script that does not fold to ASCII by dropping accents
 * (Ukrainian Cyrillic, Persian) carries its Latin transliteration after a
 * '|': "Ярослав|Yaroslav", "آرمین|Armin". The generator shows the part
 * before the '|' and builds e-mail addresses from the part after it.
 * Latin-script names (with or without accents) never contain a '|'; their
 * e-mail form is the accent-folded name. Streets, cities and states are
 * shown as written and never carry a '|'.
 *
 * Pattern codes (postcode, phone, cell, id): # digit, @ digit 1-9,
 * ^ letter A-Z, {DD} {MM} {YY} {YYYY} date of birth, {G} 1 male / 2 female.
 */
#include "source_randomuser_data.h"

#include <stddef.h>

/* ---- AU: Australia ------------------------------------------------------ */

static const char *const au_male_first[] = {
    "Jack", "Oliver", "William", "Noah", "Thomas", "James", "Lucas", "Henry", "Ethan", "Liam",
    "Samuel", "Charlie", "Cooper", "Mason", "Harrison", "Lachlan", "Riley", "Archie", "Hudson",
    "Max", "Leo", "Alexander", "Joshua", "Benjamin", "Daniel", "Matthew", "Nathan", "Ryan",
    "Mitchell", "Jayden", "Bailey", "Connor", "Dylan", "Harvey", "Isaac", "Jake", "Kyle", "Lincoln",
    "Marcus", "Owen", "Patrick", "Reece", "Sean", "Tyler", "Zachary", "Brodie", "Callum", "Darcy",
    "Hamish", "Angus", "Flynn", "Jarrah",
};

static const char *const au_female_first[] = {
    "Charlotte", "Olivia", "Amelia", "Isla", "Mia", "Ava", "Grace", "Chloe", "Sophie", "Ella",
    "Ruby", "Zoe", "Matilda", "Lily", "Emily", "Harper", "Evie", "Willow", "Sienna", "Georgia",
    "Isabella", "Madison", "Jessica", "Hannah", "Lucy", "Abbey", "Alana", "Bella", "Brooke",
    "Caitlin", "Daisy", "Eliza", "Holly", "Imogen", "Jasmine", "Kate", "Layla", "Maddison",
    "Natalie", "Paige", "Rebecca", "Sarah", "Tahlia", "Tayla", "Zara", "Mackenzie", "Ivy", "Poppy",
    "Frankie", "Stella", "Mikayla", "Shannon",
};

static const char *const au_last[] = {
    "Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin",
    "Anderson", "Thompson", "Nguyen", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson",
    "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mitchell", "Turner", "Hughes",
    "Campbell", "Murphy", "O'Brien", "Cooper", "Stewart", "Edwards", "Baker", "Morris", "Hill",
    "Scott", "Young", "Russell", "Watson", "McDonald", "Singh",
};

static const char *const au_streets[] = {
    "George Street", "Pitt Street", "Elizabeth Street", "Collins Street", "Bourke Street",
    "Swanston Street", "Flinders Street", "Queen Street", "King Street", "Victoria Road",
    "Parramatta Road", "Oxford Street", "Hunter Street", "Adelaide Street", "Hay Street",
    "Murray Street", "Chapel Street", "Sydney Road", "Brunswick Street", "Smith Street",
    "Lygon Street", "Beaufort Street", "Stirling Highway", "Anzac Parade", "Military Road",
    "Pacific Highway", "Hope Street", "Church Street", "Macquarie Street", "Wattle Avenue",
    "Banksia Drive", "Kookaburra Crescent", "Bay Road", "Station Street",
};

static const char *const au_cities[] = {
    "Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart", "Darwin", "Canberra",
    "Gold Coast", "Newcastle", "Wollongong", "Geelong", "Townsville", "Cairns", "Toowoomba",
    "Ballarat", "Bendigo", "Albury", "Launceston", "Mackay", "Rockhampton", "Bunbury", "Bundaberg",
    "Wagga Wagga", "Hervey Bay", "Mildura", "Shepparton", "Gladstone", "Tamworth", "Orange",
    "Dubbo", "Geraldton", "Kalgoorlie", "Mount Gambier", "Port Macquarie", "Alice Springs",
};

static const char *const au_states[] = {
    "New South Wales", "Victoria", "Queensland", "Western Australia", "South Australia", "Tasmania",
    "Australian Capital Territory", "Northern Territory",
};

/* ---- BR: Brazil --------------------------------------------------------- */

static const char *const br_male_first[] = {
    "José", "João", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
    "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo",
    "Rodrigo", "Manoel", "Mateus", "André", "Fernando", "Fábio", "Leonardo", "Gustavo", "Guilherme",
    "Leandro", "Tiago", "Anderson", "Ricardo", "Márcio", "Jorge", "Sebastião", "Alexandre",
    "Roberto", "Edson", "Diego", "Vitor", "Sérgio", "Cláudio", "Matheus", "Thiago", "Geraldo",
    "Adriano", "Luciano", "Júlio", "Renato", "Otávio", "Caio", "Heitor", "Davi", "Enzo", "Benício",
    "Vinícius", "Murilo",
};

static const char *const br_female_first[] = {
    "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia",
    "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia", "Luciana",
    "Vanessa", "Mariana", "Gabriela", "Vera", "Vitória", "Larissa", "Cláudia", "Beatriz", "Luana",
    "Rita", "Sônia", "Renata", "Eliane", "Josefa", "Simone", "Natália", "Cristiane", "Carla",
    "Débora", "Rosângela", "Jaqueline", "Rosa", "Daniela", "Aparecida", "Marlene", "Terezinha",
    "Raimunda", "Andréia", "Fabiana", "Lúcia", "Raquel", "Alícia", "Lívia", "Heloísa", "Valentina",
    "Cecília",
};

static const char *const br_last[] = {
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes",
    "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira", "Nunes", "Marques",
    "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves", "Santana", "Teixeira",
    "Araújo", "Monteiro", "Moura", "Cavalcanti", "Correia", "Pinto", "Campos", "Azevedo", "Batista",
    "Melo", "Peixoto", "Castro", "Brandão", "Leão", "Conceição", "Assunção", "Damasceno",
    "Magalhães", "Simões",
};

static const char *const br_streets[] = {
    "Rua São José", "Rua Sete de Setembro", "Rua Quinze de Novembro", "Avenida Paulista",
    "Rua Augusta", "Avenida Brasil", "Rua da Paz", "Rua das Flores", "Rua Santa Luzia",
    "Rua Tiradentes", "Rua Dom Pedro II", "Avenida Getúlio Vargas", "Rua Rui Barbosa",
    "Rua Duque de Caxias", "Rua Marechal Deodoro", "Rua Castro Alves", "Rua Santos Dumont",
    "Avenida Atlântica", "Rua Bela Vista", "Rua Treze de Maio", "Rua Primeiro de Maio",
    "Rua da Saudade", "Rua Boa Vista", "Avenida Presidente Vargas", "Rua Mato Grosso", "Rua Paraná",
    "Rua Bahia", "Rua Amazonas", "Rua Pernambuco", "Rua Goiás",
};

static const char *const br_cities[] = {
    "São Paulo", "Rio de Janeiro", "Brasília", "Salvador", "Fortaleza", "Belo Horizonte", "Manaus",
    "Curitiba", "Recife", "Goiânia", "Belém", "Porto Alegre", "Guarulhos", "Campinas", "São Luís",
    "São Gonçalo", "Maceió", "Duque de Caxias", "Natal", "Teresina", "Campo Grande", "Nova Iguaçu",
    "São Bernardo do Campo", "João Pessoa", "Santo André", "Osasco", "Jaboatão dos Guararapes",
    "Ribeirão Preto", "Uberlândia", "Sorocaba", "Contagem", "Aracaju", "Feira de Santana", "Cuiabá",
    "Joinville", "Juiz de Fora", "Londrina", "Florianópolis", "Niterói", "Vitória", "Macapá",
    "Porto Velho", "Rio Branco", "Boa Vista", "Palmas",
};

static const char *const br_states[] = {
    "Acre", "Alagoas", "Amapá", "Amazonas", "Bahia", "Ceará", "Distrito Federal", "Espírito Santo",
    "Goiás", "Maranhão", "Mato Grosso", "Mato Grosso do Sul", "Minas Gerais", "Pará", "Paraíba",
    "Paraná", "Pernambuco", "Piauí", "Rio de Janeiro", "Rio Grande do Norte", "Rio Grande do Sul",
    "Rondônia", "Roraima", "Santa Catarina", "São Paulo", "Sergipe", "Tocantins",
};

/* ---- CA: Canada --------------------------------------------------------- */

static const char *const ca_male_first[] = {
    "Liam", "Noah", "William", "Benjamin", "Lucas", "Ethan", "Jacob", "Logan", "Nathan", "Owen",
    "Samuel", "Alexander", "Thomas", "Félix", "Olivier", "Gabriel", "Mathis", "Xavier", "Antoine",
    "Émile", "Louis", "Zachary", "Justin", "Tyler", "Connor", "Dylan", "Brandon", "Mason", "Hunter",
    "Carter", "Wyatt", "Jackson", "Riley", "Declan", "Mathieu", "Jérémie", "Maxime", "Philippe",
    "Simon", "Vincent", "Étienne", "Charles", "Hugo", "Raphaël", "Adam", "Caleb", "Evan", "Cole",
    "Graham", "Hayden",
};

static const char *const ca_female_first[] = {
    "Olivia", "Emma", "Charlotte", "Amelia", "Ava", "Sophia", "Chloe", "Emily", "Abigail", "Hannah",
    "Léa", "Florence", "Alice", "Rosalie", "Juliette", "Camille", "Béatrice", "Zoé", "Maëlle",
    "Laurence", "Gabrielle", "Élodie", "Mégane", "Sarah", "Madison", "Brooklyn", "Avery", "Maya",
    "Claire", "Jade", "Addison", "Isabelle", "Mackenzie", "Taylor", "Ellie", "Hailey", "Lily",
    "Nora", "Scarlett", "Zoey", "Kayla", "Brianna", "Julia", "Ariane", "Océane", "Noémie",
    "Marianne", "Geneviève", "Sophie", "Audrey",
};

static const char *const ca_last[] = {
    "Smith", "Brown", "Tremblay", "Martin", "Roy", "Gagnon", "Lee", "Wilson", "Johnson",
    "MacDonald", "Taylor", "Campbell", "Anderson", "Jones", "Leblanc", "Côté", "Williams", "Miller",
    "Thompson", "Gauthier", "White", "Bouchard", "Morin", "Lavoie", "Fortin", "Gagné", "Ouellet",
    "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leclerc", "Girard", "Caron", "Simard",
    "Boucher", "Fraser", "Stewart", "Robertson", "Scott", "Murray", "Kelly", "Clark", "Young",
    "Walker", "Wong", "Chen", "Singh", "Patel", "Mercier", "Dubois", "Poirier",
};

static const char *const ca_streets[] = {
    "King Street", "Queen Street", "Yonge Street", "Bloor Street", "Dundas Street",
    "Rue Sainte-Catherine", "Rue Sherbrooke", "Boulevard Saint-Laurent", "Portage Avenue",
    "Jasper Avenue", "Granville Street", "Robson Street", "Main Street", "Wellington Street",
    "Bank Street", "Elgin Street", "Spadina Avenue", "Rue Saint-Denis", "Chemin Sainte-Foy",
    "Barrington Street", "Water Street", "Albert Street", "Victoria Avenue", "Maple Avenue",
    "Lakeshore Road", "Pine Street", "Oak Street", "Park Road", "Brock Road", "Concession Road",
    "Dufferin Street", "Rue Principale",
};

static const char *const ca_cities[] = {
    "Toronto", "Montréal", "Vancouver", "Calgary", "Edmonton", "Ottawa", "Winnipeg", "Québec",
    "Hamilton", "Kitchener", "London", "Victoria", "Halifax", "Oshawa", "Windsor", "Saskatoon",
    "Regina", "Sherbrooke", "St. John's", "Barrie", "Kelowna", "Abbotsford", "Kingston",
    "Trois-Rivières", "Guelph", "Moncton", "Brantford", "Saint John", "Lévis", "Fredericton",
    "Charlottetown", "Whitehorse", "Yellowknife", "Iqaluit", "Laval", "Gatineau", "Mississauga",
    "Brampton", "Burnaby", "Surrey", "Lethbridge", "Red Deer", "Nanaimo", "Thunder Bay", "Sudbury",
};

static const char *const ca_states[] = {
    "Alberta", "British Columbia", "Manitoba", "New Brunswick", "Newfoundland and Labrador",
    "Nova Scotia", "Ontario", "Prince Edward Island", "Québec", "Saskatchewan",
    "Northwest Territories", "Nunavut", "Yukon",
};

/* ---- CH: Switzerland ---------------------------------------------------- */

static const char *const ch_male_first[] = {
    "Lukas", "Luca", "Noah", "Leon", "Elias", "Nico", "David", "Simon", "Jonas", "Fabian", "Marco",
    "Daniel", "Thomas", "Andreas", "Peter", "Hans", "Martin", "Stefan", "Christian", "Urs", "Beat",
    "Reto", "Jürg", "Matthias", "Pascal", "Patrick", "Roger", "Raphael", "Samuel", "Yannick",
    "Cédric", "Loïc", "Julien", "Mathieu", "Nicolas", "Olivier", "Alain", "Jean-Pierre", "Philippe",
    "Laurent", "Gilles", "Mario", "Giuseppe", "Alessandro", "Matteo", "Lorenzo", "Gianluca",
    "Fabio", "Sandro", "Silvan", "Gian", "Dario", "Florian", "Joël", "Adrian",
};

static const char *const ch_female_first[] = {
    "Anna", "Laura", "Sarah", "Lea", "Julia", "Lara", "Nina", "Mia", "Sophie", "Elena", "Lena",
    "Alina", "Selina", "Jana", "Noemi", "Chiara", "Giulia", "Francesca", "Martina", "Federica",
    "Marie", "Camille", "Chloé", "Léa", "Manon", "Émilie", "Céline", "Nathalie", "Isabelle",
    "Sandrine", "Monique", "Danielle", "Ursula", "Ruth", "Verena", "Barbara", "Monika", "Brigitte",
    "Heidi", "Regula", "Daniela", "Andrea", "Sabine", "Corinne", "Fabienne", "Nadine", "Simone",
    "Michèle", "Aline", "Mélanie", "Zoé", "Océane",
};

static const char *const ch_last[] = {
    "Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Meyer", "Steiner",
    "Fischer", "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann", "Moser", "Widmer", "Wyss",
    "Graf", "Roth", "Suter", "Baumgartner", "Bachmann", "Studer", "Bühler", "Kaufmann", "Ammann",
    "Marti", "Rochat", "Favre", "Bonvin", "Perret", "Berset", "Morel", "Girard", "Rey", "Dubois",
    "Fontana", "Bernasconi", "Rossi", "Bianchi", "Ferrari", "Colombo", "Lombardi", "Pedrazzini",
    "Guerra", "Lüthi", "Zürcher", "Vogel", "Hofmann", "Arnold", "Egger", "Küng", "Gisler", "Imhof",
    "Schärer",
};

static const char *const ch_streets[] = {
    "Bahnhofstrasse", "Hauptstrasse", "Dorfstrasse", "Kirchgasse", "Seestrasse", "Schulstrasse",
    "Bergstrasse", "Rosenweg", "Lindenstrasse", "Gartenstrasse", "Industriestrasse", "Poststrasse",
    "Rue du Marché", "Rue de la Gare", "Rue du Lac", "Avenue de la Gare", "Rue du Rhône",
    "Chemin des Vignes", "Rue du Château", "Grand-Rue", "Via Cantonale", "Via San Gottardo",
    "Via della Posta", "Via Nassa", "Piazza Grande", "Marktgasse", "Spitalgasse", "Kramgasse",
    "Rathausplatz", "Mühlebachstrasse",
};

static const char *const ch_cities[] = {
    "Zürich", "Genève", "Basel", "Lausanne", "Bern", "Winterthur", "Luzern", "St. Gallen", "Lugano",
    "Biel/Bienne", "Thun", "Köniz", "La Chaux-de-Fonds", "Fribourg", "Schaffhausen", "Chur",
    "Vernier", "Neuchâtel", "Uster", "Sion", "Lancy", "Emmen", "Yverdon-les-Bains", "Zug", "Kriens",
    "Rapperswil-Jona", "Dübendorf", "Montreux", "Frauenfeld", "Dietikon", "Baar", "Wetzikon",
    "Riehen", "Wädenswil", "Aarau", "Locarno", "Bellinzona", "Solothurn", "Olten", "Nyon",
    "Martigny", "Delémont", "Herisau", "Appenzell", "Sarnen", "Stans", "Altdorf", "Glarus",
    "Schwyz", "Liestal",
};

static const char *const ch_states[] = {
    "Zürich", "Bern", "Luzern", "Uri", "Schwyz", "Obwalden", "Nidwalden", "Glarus", "Zug",
    "Fribourg", "Solothurn", "Basel-Stadt", "Basel-Landschaft", "Schaffhausen",
    "Appenzell Ausserrhoden", "Appenzell Innerrhoden", "St. Gallen", "Graubünden", "Aargau",
    "Thurgau", "Ticino", "Vaud", "Valais", "Neuchâtel", "Genève", "Jura",
};

/* ---- DE: Germany -------------------------------------------------------- */

static const char *const de_male_first[] = {
    "Maximilian", "Alexander", "Paul", "Elias", "Ben", "Noah", "Leon", "Louis", "Jonas", "Felix",
    "Luca", "Lukas", "Finn", "Emil", "Henry", "Anton", "Jakob", "Moritz", "Julian", "Tim", "Jan",
    "Niklas", "Philipp", "Sebastian", "Tobias", "Florian", "Dominik", "Fabian", "Stefan", "Michael",
    "Thomas", "Andreas", "Markus", "Christian", "Matthias", "Jürgen", "Klaus", "Dieter", "Uwe",
    "Wolfgang", "Günter", "Horst", "Helmut", "Manfred", "Rainer", "Bernd", "Frank", "Torsten",
    "Dirk", "Sven", "Kai", "Björn", "Jörg", "Hans-Jürgen", "Karl-Heinz",
};

static const char *const de_female_first[] = {
    "Marie", "Sophie", "Emilia", "Hannah", "Emma", "Mia", "Lina", "Mila", "Ella", "Clara", "Lea",
    "Leonie", "Lena", "Anna", "Laura", "Julia", "Sarah", "Lisa", "Katharina", "Johanna",
    "Charlotte", "Greta", "Ida", "Frieda", "Paula", "Nele", "Jana", "Sabine", "Petra", "Monika",
    "Ursula", "Renate", "Gisela", "Brigitte", "Ingrid", "Helga", "Karin", "Heike", "Birgit",
    "Claudia", "Susanne", "Andrea", "Stefanie", "Nicole", "Anja", "Silke", "Jutta", "Gudrun",
    "Hildegard", "Elke", "Käthe", "Lotte", "Ilse", "Gerda",
};

static const char *const de_last[] = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner",
    "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann",
    "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller",
    "Weiß", "Jung", "Hahn", "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler",
    "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig",
    "Böhm",
};

static const char *const de_streets[] = {
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
    "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße",
    "Goethestraße", "Mühlenweg", "Wiesenweg", "Amselweg", "Jahnstraße", "Am Sportplatz",
    "Rosenstraße", "Friedhofstraße", "Blumenstraße", "Poststraße", "Feldstraße", "Beethovenstraße",
    "Mozartstraße", "Parkstraße", "Marktplatz", "Tulpenweg", "Eichendorffstraße", "Lessingstraße",
    "Industriestraße", "Rathausstraße",
};

static const char *const de_cities[] = {
    "Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
    "Leipzig", "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg",
    "Bochum", "Wuppertal", "Bielefeld", "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg",
    "Wiesbaden", "Mönchengladbach", "Gelsenkirchen", "Aachen", "Braunschweig", "Kiel", "Chemnitz",
    "Halle (Saale)", "Magdeburg", "Freiburg im Breisgau", "Krefeld", "Mainz", "Lübeck", "Erfurt",
    "Oberhausen", "Rostock", "Kassel", "Hagen", "Potsdam", "Saarbrücken", "Hamm",
    "Ludwigshafen am Rhein", "Oldenburg", "Osnabrück", "Leverkusen", "Heidelberg", "Darmstadt",
    "Regensburg", "Würzburg", "Göttingen", "Schwerin", "Jena",
};

static const char *const de_states[] = {
    "Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
    "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz", "Saarland",
    "Sachsen", "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen",
};

/* ---- DK: Denmark -------------------------------------------------------- */

static const char *const dk_male_first[] = {
    "Mikkel", "Frederik", "Emil", "Lucas", "Mathias", "Magnus", "Oliver", "William", "Noah",
    "Victor", "Malthe", "Oscar", "Alfred", "Carl", "Aksel", "Valdemar", "Christian", "Rasmus",
    "Jonas", "Anders", "Søren", "Jens", "Lars", "Niels", "Peter", "Morten", "Henrik", "Thomas",
    "Martin", "Jesper", "Ole", "Poul", "Bent", "Jørgen", "Kjeld", "Torben", "Preben", "Bjørn",
    "Kasper", "Jakob", "Nikolaj", "Tobias", "Sebastian", "Mads", "Asger", "Benjamin", "Esben",
    "Gustav", "Holger", "Kristoffer", "Laurits", "Svend",
};

static const char *const dk_female_first[] = {
    "Emma", "Ida", "Clara", "Freja", "Sofia", "Alma", "Ella", "Karla", "Anna", "Laura", "Josefine",
    "Mathilde", "Agnes", "Olivia", "Frida", "Asta", "Ellen", "Liva", "Signe", "Cecilie", "Camilla",
    "Line", "Mette", "Hanne", "Susanne", "Lene", "Pia", "Tina", "Kirsten", "Inge", "Birgitte",
    "Lone", "Karen", "Bente", "Jytte", "Grethe", "Merete", "Dorthe", "Rikke", "Maja", "Sille",
    "Nanna", "Caroline", "Julie", "Sara", "Astrid", "Ingrid", "Maren", "Solveig", "Ulla", "Tove",
    "Aase",
};

static const char *const dk_last[] = {
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen",
    "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen", "Jakobsen", "Jacobsen",
    "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen", "Lund", "Schmidt", "Eriksen",
    "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen", "Andreasen", "Iversen", "Jeppesen",
    "Vestergaard", "Nørgaard", "Østergaard", "Bech", "Dahl", "Lauridsen", "Kjær", "Mogensen",
    "Berg", "Søndergaard", "Bak", "Damgaard", "Friis", "Skov", "Bach",
};

static const char *const dk_streets[] = {
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Storegade", "Kirkevej", "Skolevej",
    "Møllevej", "Engvej", "Skovvej", "Stationsvej", "Bakkevej", "Toftevej", "Strandvejen",
    "Ved Stranden", "Åboulevarden", "Nørrebrogade", "Amagerbrogade", "Vesterbrogade",
    "Østerbrogade", "Strøget", "Kongensgade", "Algade", "Torvet", "Birkevej", "Egevej", "Bøgevej",
    "Lindevej", "Rosenvænget", "Grønnegade", "Havnegade", "Ågade",
};

static const char *const dk_cities[] = {
    "København", "Aarhus", "Odense", "Aalborg", "Esbjerg", "Randers", "Kolding", "Horsens", "Vejle",
    "Roskilde", "Herning", "Hørsholm", "Helsingør", "Silkeborg", "Næstved", "Fredericia", "Viborg",
    "Køge", "Holstebro", "Taastrup", "Slagelse", "Hillerød", "Sønderborg", "Svendborg", "Hjørring",
    "Frederikshavn", "Nørresundby", "Ringsted", "Haderslev", "Skive", "Nyborg", "Aabenraa", "Ribe",
    "Nykøbing Falster", "Thisted", "Skagen", "Ærøskøbing", "Rønne", "Frederiksberg", "Glostrup",
    "Kalundborg", "Holbæk", "Brønderslev", "Grenaa", "Varde",
};

static const char *const dk_states[] = {
    "Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland",
};

/* ---- ES: Spain ---------------------------------------------------------- */

static const char *const es_male_first[] = {
    "Antonio", "Manuel", "José", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos",
    "Jesús", "Alejandro", "Miguel", "Rafael", "Pedro", "Pablo", "Ángel", "Sergio", "Fernando",
    "Jorge", "Luis", "Alberto", "Álvaro", "Adrián", "Diego", "Raúl", "Enrique", "Ramón", "Vicente",
    "Iván", "Rubén", "Óscar", "Andrés", "Joaquín", "Santiago", "Eduardo", "Víctor", "Mario",
    "Roberto", "Jaime", "Ignacio", "Marcos", "Alfonso", "Hugo", "Gonzalo", "Salvador", "Guillermo",
    "Emilio", "Julián", "Martín", "Lucas", "Mateo", "Iker", "Unai", "Jordi", "Xavier",
};

static const char *const es_female_first[] = {
    "María", "Carmen", "Ana", "Isabel", "Laura", "Cristina", "Marta", "Lucía", "Pilar", "Elena",
    "Dolores", "Paula", "Raquel", "Manuela", "Sara", "Mercedes", "Rosario", "Julia", "Beatriz",
    "Nuria", "Silvia", "Irene", "Patricia", "Andrea", "Rocío", "Montserrat", "Alba", "Rosa",
    "Mónica", "Sonia", "Teresa", "Encarnación", "Sofía", "Inmaculada", "Alicia", "Marina", "Ángela",
    "Claudia", "Natalia", "Eva", "Noelia", "Concepción", "Victoria", "Esther", "Lorena", "Aitana",
    "Lola", "Ainhoa", "Inés", "Blanca", "Consuelo", "Begoña", "Itziar", "Nerea",
};

static const char *const es_last[] = {
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil",
    "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro",
    "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés",
    "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto", "Méndez", "Cruz", "Calvo",
    "Gallego", "Vidal", "León", "Márquez", "Herrera", "Peña", "Flores", "Cabrera", "Campos", "Vega",
    "Fuentes", "Carrasco",
};

static const char *const es_streets[] = {
    "Calle Mayor", "Calle de Alcalá", "Gran Vía", "Calle de Serrano", "Paseo de la Castellana",
    "Calle del Arenal", "Avenida de la Constitución", "Calle Real", "Calle de la Iglesia",
    "Plaza Mayor", "Calle del Sol", "Calle de la Luna", "Avenida de Andalucía", "Calle de Toledo",
    "Calle de Segovia", "Calle Nueva", "Calle Ancha", "Calle del Carmen", "Calle de la Paz",
    "Paseo del Prado", "Calle de Atocha", "Calle de Bravo Murillo", "Avenida de América",
    "Calle de Cervantes", "Calle de San Vicente", "Calle del Pez", "Rambla de Catalunya",
    "Passeig de Gràcia", "Calle Larios", "Calle Sierpes", "Avenida de los Reyes Católicos",
    "Calle de Colón",
};

static const char *const es_cities[] = {
    "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia",
    "Palma de Mallorca", "Las Palmas de Gran Canaria", "Bilbao", "Alicante", "Córdoba",
    "Valladolid", "Vigo", "Gijón", "L'Hospitalet de Llobregat", "Vitoria-Gasteiz", "A Coruña",
    "Granada", "Elche", "Oviedo", "Badalona", "Cartagena", "Terrassa", "Jerez de la Frontera",
    "Sabadell", "Móstoles", "Santa Cruz de Tenerife", "Pamplona", "Almería", "Alcalá de Henares",
    "Fuenlabrada", "Leganés", "San Sebastián", "Getafe", "Burgos", "Albacete", "Santander",
    "Castellón de la Plana", "Logroño", "Badajoz", "Salamanca", "Huelva", "Marbella", "Lleida",
    "Tarragona", "León", "Cádiz", "Jaén", "Ourense", "Girona", "Lugo", "Cáceres", "Toledo",
    "Segovia",
};

static const char *const es_states[] = {
    "Andalucía", "Aragón", "Principado de Asturias", "Illes Balears", "Canarias", "Cantabria",
    "Castilla y León", "Castilla-La Mancha", "Cataluña", "Comunidad Valenciana", "Extremadura",
    "Galicia", "Comunidad de Madrid", "Región de Murcia", "Comunidad Foral de Navarra",
    "País Vasco", "La Rioja", "Ceuta", "Melilla",
};

/* ---- FI: Finland -------------------------------------------------------- */

static const char *const fi_male_first[] = {
    "Juhani", "Johannes", "Mikael", "Olavi", "Onni", "Matti", "Antero", "Tapani", "Kalevi",
    "Ilmari", "Eino", "Väinö", "Aleksi", "Mikko", "Jukka", "Timo", "Pekka", "Kari", "Jari", "Antti",
    "Markku", "Juha", "Heikki", "Janne", "Ville", "Tuomas", "Lauri", "Eetu", "Elias", "Leo",
    "Oliver", "Veeti", "Aatu", "Niilo", "Eemeli", "Joona", "Topias", "Otto", "Arttu", "Santeri",
    "Sami", "Teemu", "Petri", "Harri", "Risto", "Seppo", "Raimo", "Pentti", "Esa", "Jussi",
    "Oskari", "Toivo", "Aarne", "Reijo",
};

static const char *const fi_female_first[] = {
    "Maria", "Helena", "Johanna", "Anneli", "Kaarina", "Marjatta", "Anna", "Liisa", "Sofia",
    "Emilia", "Aino", "Eevi", "Ella", "Helmi", "Aada", "Venla", "Iida", "Linnea", "Lumi", "Pihla",
    "Enni", "Siiri", "Kerttu", "Hilla", "Elli", "Veera", "Sanna", "Tiina", "Päivi", "Riitta",
    "Pirjo", "Sari", "Minna", "Tuula", "Leena", "Satu", "Anu", "Merja", "Hanna", "Katja", "Jenni",
    "Laura", "Noora", "Henna", "Milla", "Oona", "Nelli", "Iiris", "Saara", "Eila", "Sirkka",
    "Tuulikki", "Kristiina", "Outi",
};

static const char *const fi_last[] = {
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
    "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
    "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen", "Rantanen",
    "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen", "Leinonen", "Hiltunen",
    "Kettunen", "Ojala", "Väisänen", "Hirvonen", "Lindholm", "Halonen", "Kallio", "Pesonen",
    "Aaltonen", "Hakala", "Peltonen", "Räsänen", "Toivonen", "Koivisto", "Lindqvist", "Nurmi",
    "Manninen", "Rautio", "Vainio", "Seppälä", "Honkanen", "Laaksonen", "Keränen", "Huttunen",
    "Lampinen",
};

static const char *const fi_streets[] = {
    "Hämeenkatu", "Mannerheimintie", "Aleksanterinkatu", "Esplanadi", "Hämeentie", "Satakunnankatu",
    "Itsenäisyydenkatu", "Kauppakatu", "Kirkkokatu", "Koulukatu", "Puistokatu", "Rantatie",
    "Pohjoisesplanadi", "Keskuskatu", "Asemakatu", "Torikatu", "Tehtaankatu", "Sibeliuksenkatu",
    "Runebergintie", "Myllytie", "Koivukuja", "Mäntytie", "Kuusitie", "Rautatienkatu", "Pitkäkatu",
    "Kalevankatu", "Läntinen Rantakatu", "Tuomiokirkonkatu", "Yliopistonkatu", "Väinämöisenkatu",
    "Hallituskatu",
};

static const char *const fi_cities[] = {
    "Helsinki", "Espoo", "Tampere", "Vantaa", "Oulu", "Turku", "Jyväskylä", "Lahti", "Kuopio",
    "Pori", "Kouvola", "Joensuu", "Lappeenranta", "Hämeenlinna", "Vaasa", "Seinäjoki", "Rovaniemi",
    "Mikkeli", "Kotka", "Salo", "Porvoo", "Kokkola", "Hyvinkää", "Lohja", "Järvenpää", "Rauma",
    "Kajaani", "Kerava", "Savonlinna", "Nokia", "Kangasala", "Raisio", "Kemi", "Tornio", "Iisalmi",
    "Forssa", "Hamina", "Varkaus", "Imatra", "Kirkkonummi", "Nurmijärvi", "Tuusula", "Valkeakoski",
    "Naantali", "Uusikaupunki", "Loviisa", "Hanko", "Raahe", "Ylöjärvi", "Pieksämäki",
};

static const char *const fi_states[] = {
    "Uusimaa", "Varsinais-Suomi", "Satakunta", "Kanta-Häme", "Pirkanmaa", "Päijät-Häme",
    "Kymenlaakso", "Etelä-Karjala", "Etelä-Savo", "Pohjois-Savo", "Pohjois-Karjala", "Keski-Suomi",
    "Etelä-Pohjanmaa", "Pohjanmaa", "Keski-Pohjanmaa", "Pohjois-Pohjanmaa", "Kainuu", "Lappi",
    "Ahvenanmaa",
};

/* ---- FR: France --------------------------------------------------------- */

static const char *const fr_male_first[] = {
    "Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Jacques", "Bernard", "Patrick",
    "Daniel", "Nicolas", "Christophe", "Thierry", "Pascal", "Éric", "Frédéric", "Laurent",
    "Stéphane", "David", "Sébastien", "Julien", "Olivier", "François", "Gérard", "Claude", "Yves",
    "René", "Thomas", "Antoine", "Maxime", "Alexandre", "Romain", "Hugo", "Lucas", "Théo", "Louis",
    "Gabriel", "Arthur", "Raphaël", "Jules", "Mathis", "Nathan", "Enzo", "Baptiste", "Quentin",
    "Clément", "Guillaume", "Benoît", "Jérôme", "Cédric", "Loïc", "Noé", "Timothée", "Gaël",
};

static const char *const fr_female_first[] = {
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Martine", "Christine",
    "Monique", "Valérie", "Sandrine", "Stéphanie", "Nicole", "Véronique", "Sophie", "Céline",
    "Chantal", "Patricia", "Anne", "Brigitte", "Julie", "Aurélie", "Émilie", "Camille", "Laura",
    "Manon", "Chloé", "Léa", "Sarah", "Inès", "Jade", "Louise", "Emma", "Alice", "Lina", "Juliette",
    "Zoé", "Lucie", "Clémence", "Pauline", "Margaux", "Océane", "Mathilde", "Élise", "Agathe",
    "Hélène", "Mélanie", "Audrey", "Justine", "Marine", "Josiane", "Geneviève", "Élodie", "Anaïs",
};

static const char *const fr_last[] = {
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
    "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis",
    "Dumont", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud",
    "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
};

static const char *const fr_streets[] = {
    "Rue de la République", "Rue Victor-Hugo", "Avenue Jean-Jaurès", "Rue de la Paix",
    "Rue Pasteur", "Place de la Mairie", "Rue du Moulin", "Rue de l'Église", "Grande Rue",
    "Rue des Écoles", "Avenue du Général-de-Gaulle", "Rue Nationale", "Boulevard Gambetta",
    "Rue de la Gare", "Rue du Château", "Rue Jules-Ferry", "Rue Voltaire", "Rue Saint-Martin",
    "Rue des Jardins", "Rue du Stade", "Place du Marché", "Rue de Verdun", "Rue Molière",
    "Cours Mirabeau", "Rue Lamartine", "Avenue de la Libération", "Rue Émile-Zola", "Rue Paul-Bert",
    "Montée de la Grande-Côte", "Rue Principale", "Rue des Tilleuls", "Rue du Bât-d'Argent",
};

static const char *const fr_cities[] = {
    "Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Montpellier", "Strasbourg",
    "Bordeaux", "Lille", "Rennes", "Reims", "Toulon", "Saint-Étienne", "Le Havre", "Grenoble",
    "Dijon", "Angers", "Nîmes", "Villeurbanne", "Clermont-Ferrand", "Le Mans", "Aix-en-Provence",
    "Brest", "Tours", "Amiens", "Limoges", "Annecy", "Perpignan", "Boulogne-Billancourt", "Metz",
    "Besançon", "Orléans", "Saint-Denis", "Argenteuil", "Rouen", "Mulhouse", "Montreuil", "Caen",
    "Nancy", "Avignon", "Poitiers", "Pau", "La Rochelle", "Calais", "Béziers", "Colmar", "Bayonne",
    "Versailles", "Nanterre", "Créteil", "Dunkerque", "Ajaccio", "Bastia",
};

static const char *const fr_states[] = {
    "Ain", "Aisne", "Allier", "Alpes-Maritimes", "Ardèche", "Ardennes", "Aube", "Aude", "Aveyron",
    "Bouches-du-Rhône", "Calvados", "Cantal", "Charente", "Charente-Maritime", "Cher", "Corrèze",
    "Côte-d'Or", "Côtes-d'Armor", "Creuse", "Dordogne", "Doubs", "Drôme", "Eure", "Finistère",
    "Gard", "Haute-Garonne", "Gers", "Gironde", "Hérault", "Ille-et-Vilaine", "Indre", "Isère",
    "Jura", "Landes", "Loire", "Loire-Atlantique", "Loiret", "Lot", "Maine-et-Loire", "Manche",
    "Marne", "Moselle", "Nord", "Oise", "Pas-de-Calais", "Puy-de-Dôme", "Pyrénées-Atlantiques",
    "Bas-Rhin", "Haut-Rhin", "Rhône", "Saône-et-Loire", "Sarthe", "Savoie", "Haute-Savoie", "Paris",
    "Seine-Maritime", "Seine-et-Marne", "Yvelines", "Somme", "Var", "Vaucluse", "Vendée", "Vienne",
    "Haute-Vienne", "Vosges", "Essonne", "Hauts-de-Seine", "Seine-Saint-Denis", "Val-de-Marne",
    "Val-d'Oise",
};

/* ---- GB: United Kingdom ------------------------------------------------- */

static const char *const gb_male_first[] = {
    "Oliver", "George", "Harry", "Jack", "Jacob", "Charlie", "Thomas", "Oscar", "William", "James",
    "Alfie", "Joshua", "Henry", "Leo", "Archie", "Ethan", "Joseph", "Freddie", "Samuel",
    "Alexander", "Daniel", "Edward", "Benjamin", "Max", "Arthur", "Theo", "Lewis", "Callum",
    "Jamie", "Kieran", "Liam", "Connor", "Ryan", "Stuart", "Gareth", "Rhys", "Dylan", "Owen",
    "Ewan", "Fraser", "Craig", "Neil", "Ian", "Graham", "Nigel", "Trevor", "Keith", "Colin",
    "Barry", "Derek", "Martin", "Andrew", "Paul", "Robert", "Simon",
};

static const char *const gb_female_first[] = {
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophia", "Grace", "Mia", "Poppy", "Ella", "Lily",
    "Evie", "Isabella", "Sophie", "Jessica", "Freya", "Charlotte", "Florence", "Daisy", "Rosie",
    "Phoebe", "Millie", "Holly", "Megan", "Chloe", "Bethany", "Lauren", "Hannah", "Amy", "Rebecca",
    "Gemma", "Kirsty", "Hayley", "Leanne", "Kelly", "Nicola", "Claire", "Joanne", "Sharon",
    "Tracey", "Karen", "Julie", "Lesley", "Gillian", "Margaret", "Eileen", "Shirley", "Maureen",
    "Carol", "Deborah", "Siobhan", "Eilidh", "Catrin", "Ffion", "Seren",
};

static const char *const gb_last[] = {
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
    "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
    "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey",
    "Collins", "Bell", "Shaw", "Murphy", "Campbell", "MacDonald", "Stewart", "Reid", "Lloyd",
    "Pritchard", "Owens",
};

static const char *const gb_streets[] = {
    "High Street", "Station Road", "Main Street", "Park Road", "Church Road", "Church Street",
    "London Road", "Victoria Road", "Green Lane", "Manor Road", "Church Lane", "Park Avenue",
    "The Avenue", "The Crescent", "Queens Road", "New Road", "Grange Road", "Kings Road",
    "Kingsway", "Windsor Road", "Highfield Road", "Mill Lane", "Alexander Road", "York Road",
    "St. John's Road", "Main Road", "Broadway", "King Street", "The Green", "Springfield Road",
    "George Street", "Park Lane", "Victoria Street", "Albert Road", "Queensway", "New Street",
    "Chester Road", "Mill Road", "North Street", "Stanley Road",
};

static const char *const gb_cities[] = {
    "London", "Birmingham", "Manchester", "Leeds", "Glasgow", "Liverpool", "Sheffield", "Bristol",
    "Edinburgh", "Cardiff", "Belfast", "Leicester", "Coventry", "Nottingham", "Newcastle upon Tyne",
    "Bradford", "Stoke-on-Trent", "Wolverhampton", "Plymouth", "Southampton", "Reading", "Derby",
    "Swansea", "Aberdeen", "Dundee", "Portsmouth", "Brighton and Hove", "Norwich", "Oxford",
    "Cambridge", "York", "Exeter", "Bath", "Gloucester", "Lincoln", "Carlisle", "Durham",
    "Inverness", "Stirling", "Perth", "Newport", "Wrexham", "Bangor", "Londonderry", "Lisburn",
    "Peterborough", "Preston", "Sunderland", "Milton Keynes", "Ipswich", "Chester", "Worcester",
    "Hereford", "Salisbury", "Canterbury", "Winchester", "Truro", "Wakefield", "St Albans",
};

static const char *const gb_states[] = {
    "Bedfordshire", "Berkshire", "Bristol", "Buckinghamshire", "Cambridgeshire", "Cheshire",
    "Cornwall", "Cumbria", "Derbyshire", "Devon", "Dorset", "Durham", "East Sussex", "Essex",
    "Gloucestershire", "Greater London", "Greater Manchester", "Hampshire", "Herefordshire",
    "Hertfordshire", "Isle of Wight", "Kent", "Lancashire", "Leicestershire", "Lincolnshire",
    "Merseyside", "Norfolk", "North Yorkshire", "Northamptonshire", "Northumberland",
    "Nottinghamshire", "Oxfordshire", "Rutland", "Shropshire", "Somerset", "South Yorkshire",
    "Staffordshire", "Suffolk", "Surrey", "Tyne and Wear", "Warwickshire", "West Midlands",
    "West Sussex", "West Yorkshire", "Wiltshire", "Worcestershire", "East Riding of Yorkshire",
    "Clwyd", "Dyfed", "Gwent", "Gwynedd", "Mid Glamorgan", "Powys", "South Glamorgan",
    "West Glamorgan", "Aberdeenshire", "Angus", "Argyll and Bute", "Fife", "Highland", "Moray",
    "Perth and Kinross", "Scottish Borders", "Dumfries and Galloway", "South Ayrshire", "Stirling",
    "County Antrim", "County Armagh", "County Down", "County Fermanagh", "County Londonderry",
    "County Tyrone",
};

/* ---- IE: Ireland -------------------------------------------------------- */

static const char *const ie_male_first[] = {
    "Jack", "James", "Noah", "Conor", "Seán", "Daniel", "Michael", "Patrick", "Liam", "Darragh",
    "Cian", "Oisín", "Fionn", "Tadhg", "Ciarán", "Pádraig", "Eoin", "Cathal", "Ruairí", "Dónal",
    "Colm", "Diarmuid", "Niall", "Shane", "Declan", "Kevin", "Brian", "Aidan", "Dermot", "Fergal",
    "Gearóid", "Séamus", "Kieran", "Rory", "Ronan", "Killian", "Oran", "Senan", "Odhrán", "Finn",
    "Luke", "Adam", "Thomas", "John", "Paul", "Barry", "Eamon", "Brendan", "Cormac", "Dara",
    "Mícheál", "Tomás",
};

static const char *const ie_female_first[] = {
    "Emily", "Grace", "Fiadh", "Sophie", "Hannah", "Amelia", "Ava", "Ellie", "Ella", "Mia", "Aoife",
    "Saoirse", "Caoimhe", "Niamh", "Ciara", "Róisín", "Siobhán", "Sinéad", "Orla", "Clodagh",
    "Aisling", "Gráinne", "Máire", "Síle", "Nuala", "Bríd", "Eimear", "Muireann", "Méabh", "Áine",
    "Éabha", "Sadhbh", "Clíona", "Deirdre", "Fionnuala", "Orlaith", "Ailbhe", "Laoise", "Molly",
    "Kate", "Sarah", "Rachel", "Laura", "Lucy", "Chloe", "Emma", "Mary", "Catherine", "Margaret",
    "Bridget", "Nora", "Eileen",
};

static const char *const ie_last[] = {
    "Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor",
    "O'Neill", "O'Reilly", "Doyle", "McCarthy", "Gallagher", "O'Doherty", "Kennedy", "Lynch",
    "Murray", "Quinn", "Moore", "McLoughlin", "O'Carroll", "Connolly", "Daly", "O'Connell",
    "Wilson", "Dunne", "Brennan", "Burke", "Collins", "Campbell", "Clarke", "Johnston", "Hughes",
    "O'Farrell", "Fitzgerald", "Brown", "Martin", "Maguire", "Nolan", "Flynn", "Thompson",
    "O'Callaghan", "O'Donnell", "Duffy", "O'Mahony", "Boyle", "Healy", "O'Shea", "White", "Sweeney",
    "Hayes", "Kavanagh", "Power", "McGrath", "Moran", "Brady", "Stewart", "Casey", "Foley",
    "Fitzpatrick",
};

static const char *const ie_streets[] = {
    "Main Street", "O'Connell Street", "Grafton Street", "Henry Street", "Patrick Street",
    "Shop Street", "Church Street", "Bridge Street", "Mill Street", "Castle Street", "Dame Street",
    "Parnell Street", "Abbey Street", "Thomas Street", "Dublin Road", "Cork Road", "Station Road",
    "Green Street", "New Street", "Market Street", "St. Patrick's Road", "Sarsfield Street",
    "Davitt Road", "Pearse Street", "Emmet Road", "Connolly Street", "Harcourt Street",
    "Baggot Street", "Camden Street", "Strand Road", "Mary Street", "Quay Street", "The Mall",
};

static const char *const ie_cities[] = {
    "Dublin", "Cork", "Limerick", "Galway", "Waterford", "Drogheda", "Swords", "Dundalk", "Bray",
    "Navan", "Kilkenny", "Ennis", "Carlow", "Tralee", "Newbridge", "Portlaoise", "Balbriggan",
    "Naas", "Athlone", "Mullingar", "Celbridge", "Wexford", "Letterkenny", "Sligo", "Greystones",
    "Clonmel", "Malahide", "Carrigaline", "Leixlip", "Tullamore", "Killarney", "Arklow", "Cobh",
    "Ashbourne", "Midleton", "Mallow", "Castlebar", "Enniscorthy", "Wicklow", "Cavan", "Athy",
    "Longford", "Dungarvan", "Nenagh", "Trim", "Thurles", "Youghal", "Monaghan", "Roscommon",
    "Westport", "Ballina", "Shannon", "Tuam", "Kildare", "Carrick-on-Shannon",
};

static const char *const ie_states[] = {
    "Carlow", "Cavan", "Clare", "Cork", "Donegal", "Dublin", "Galway", "Kerry", "Kildare",
    "Kilkenny", "Laois", "Leitrim", "Limerick", "Longford", "Louth", "Mayo", "Meath", "Monaghan",
    "Offaly", "Roscommon", "Sligo", "Tipperary", "Waterford", "Westmeath", "Wexford", "Wicklow",
};

/* ---- IN: India ---------------------------------------------------------- */

static const char *const in_male_first[] = {
    "Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Ayaan", "Krishna", "Ishaan",
    "Rohan", "Rahul", "Amit", "Sanjay", "Vijay", "Rajesh", "Suresh", "Ramesh", "Mahesh", "Deepak",
    "Anil", "Sunil", "Manoj", "Ajay", "Vikram", "Karan", "Nikhil", "Pranav", "Siddharth", "Harsh",
    "Yash", "Kunal", "Abhishek", "Gaurav", "Varun", "Ankit", "Akash", "Naveen", "Prakash", "Ravi",
    "Venkatesh", "Srinivas", "Arun", "Karthik", "Mohan", "Gopal", "Hemant", "Jatin", "Lokesh",
    "Mukesh", "Nitin", "Pankaj", "Sachin", "Tarun", "Uday", "Dhruv", "Kabir", "Shaurya",
};

static const char *const in_female_first[] = {
    "Aadhya", "Ananya", "Diya", "Saanvi", "Pari", "Anika", "Navya", "Myra", "Priya", "Pooja",
    "Neha", "Anjali", "Sneha", "Divya", "Kavya", "Shreya", "Aishwarya", "Lakshmi", "Sunita",
    "Anita", "Kavita", "Rekha", "Meena", "Geeta", "Sita", "Radha", "Usha", "Asha", "Nisha", "Ritu",
    "Swati", "Shalini", "Deepika", "Priyanka", "Sapna", "Komal", "Jyoti", "Pallavi", "Aarti",
    "Bhavna", "Chitra", "Madhuri", "Nandini", "Padma", "Revathi", "Sangeeta", "Tanvi", "Vaishnavi",
    "Isha", "Riya", "Kiara", "Aditi", "Ishita", "Mansi", "Sakshi", "Trisha",
};

static const char *const in_last[] = {
    "Sharma", "Verma", "Gupta", "Singh", "Kumar", "Patel", "Shah", "Reddy", "Rao", "Nair", "Menon",
    "Pillai", "Iyer", "Iyengar", "Chatterjee", "Banerjee", "Mukherjee", "Das", "Bose", "Ghosh",
    "Sen", "Dutta", "Joshi", "Kulkarni", "Deshpande", "Patil", "Jadhav", "Pawar", "Shinde",
    "Chavan", "Naidu", "Chowdhury", "Mehta", "Desai", "Trivedi", "Pandey", "Mishra", "Tiwari",
    "Dubey", "Yadav", "Jain", "Agarwal", "Bansal", "Kapoor", "Khanna", "Malhotra", "Chopra",
    "Bhatia", "Saxena", "Srivastava", "Sinha", "Thakur", "Chauhan", "Rathore", "Gill", "Sandhu",
    "Dhillon", "Hegde", "Shetty", "Kamath", "Gowda", "Acharya", "Bhat",
};

static const char *const in_streets[] = {
    "Mahatma Gandhi Road", "Station Road", "Nehru Road", "Church Street", "Brigade Road",
    "Park Street", "Linking Road", "Marine Drive", "Anna Salai", "Residency Road",
    "Commercial Street", "Civil Lines", "Mall Road", "Ring Road", "Netaji Subhash Marg",
    "Chandni Chowk", "Sardar Patel Road", "Tilak Road", "Shivaji Road", "Lal Bahadur Shastri Marg",
    "Rajaji Salai", "Ashok Marg", "Jawaharlal Nehru Road", "Ambedkar Road", "Rajendra Prasad Road",
    "Hill Road", "Lake Road", "Temple Street", "Bazaar Street", "Kutcheri Road", "Bank Street",
    "College Road", "Hospital Road", "Market Road", "Lajpat Rai Marg",
};

static const char *const in_cities[] = {
    "Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Ahmedabad", "Chennai", "Kolkata", "Surat", "Pune",
    "Jaipur", "Lucknow", "Kanpur", "Nagpur", "Indore", "Thane", "Bhopal", "Visakhapatnam", "Patna",
    "Vadodara", "Ghaziabad", "Ludhiana", "Agra", "Nashik", "Faridabad", "Meerut", "Rajkot",
    "Varanasi", "Srinagar", "Aurangabad", "Dhanbad", "Amritsar", "Prayagraj", "Ranchi", "Howrah",
    "Coimbatore", "Jabalpur", "Gwalior", "Vijayawada", "Jodhpur", "Madurai", "Raipur", "Kota",
    "Guwahati", "Chandigarh", "Mysuru", "Thiruvananthapuram", "Kochi", "Bhubaneswar", "Dehradun",
    "Udaipur", "Mangaluru", "Puducherry", "Shimla", "Panaji",
};

static const char *const in_states[] = {
    "Andhra Pradesh", "Arunachal Pradesh", "Assam", "Bihar", "Chhattisgarh", "Goa", "Gujarat",
    "Haryana", "Himachal Pradesh", "Jharkhand", "Karnataka", "Kerala", "Madhya Pradesh",
    "Maharashtra", "Manipur", "Meghalaya", "Mizoram", "Nagaland", "Odisha", "Punjab", "Rajasthan",
    "Sikkim", "Tamil Nadu", "Telangana", "Tripura", "Uttar Pradesh", "Uttarakhand", "West Bengal",
    "Andaman and Nicobar Islands", "Chandigarh", "Dadra and Nagar Haveli and Daman and Diu",
    "Delhi", "Jammu and Kashmir", "Ladakh", "Lakshadweep", "Puducherry",
};

/* ---- IR: Iran ----------------------------------------------------------- */

static const char *const ir_male_first[] = {
    "محمد|Mohammad", "علی|Ali", "حسین|Hossein", "رضا|Reza", "مهدی|Mahdi", "امیر|Amir", "حسن|Hasan",
    "محسن|Mohsen", "سعید|Saeed", "مجید|Majid", "حمید|Hamid", "احمد|Ahmad", "مصطفی|Mostafa",
    "جواد|Javad", "علیرضا|Alireza", "امیرحسین|Amirhossein", "محمدرضا|Mohammadreza", "آرمین|Armin",
    "آرین|Arian", "کیان|Kian", "پارسا|Parsa", "سینا|Sina", "بهراد|Behrad", "کوروش|Kourosh",
    "داریوش|Dariush", "بابک|Babak", "بهرام|Bahram", "فرهاد|Farhad", "کامران|Kamran", "پیمان|Peyman",
    "پویا|Pouya", "نیما|Nima", "میلاد|Milad", "سجاد|Sajjad", "یاسین|Yasin", "ابوالفضل|Abolfazl",
    "ماهان|Mahan", "متین|Matin", "امید|Omid", "شهاب|Shahab", "هومن|Hooman", "کیوان|Keyvan",
    "سامان|Saman", "آرش|Arash", "بردیا|Bardia", "رامین|Ramin", "سهراب|Sohrab", "فرشید|Farshid",
    "مازیار|Maziar", "بهزاد|Behzad", "اکبر|Akbar", "عباس|Abbas", "ایلیا|Ilia",
};

static const char *const ir_female_first[] = {
    "فاطمه|Fatemeh", "زهرا|Zahra", "مریم|Maryam", "زینب|Zeinab", "سارا|Sara", "نرگس|Narges",
    "مهسا|Mahsa", "نازنین|Nazanin", "هستی|Hasti", "ریحانه|Reyhaneh", "یسنا|Yasna", "حلما|Helma",
    "آیدا|Aida", "الناز|Elnaz", "الهام|Elham", "لیلا|Leila", "شیرین|Shirin", "پریسا|Parisa",
    "نگار|Negar", "مینا|Mina", "سمیرا|Samira", "ساناز|Sanaz", "شقایق|Shaghayegh", "یاسمن|Yasaman",
    "ترانه|Taraneh", "نیلوفر|Niloufar", "رویا|Roya", "پروین|Parvin", "مهناز|Mahnaz",
    "فرزانه|Farzaneh", "سمانه|Samaneh", "مهدیس|Mahdis", "ستایش|Setayesh", "آوا|Ava", "باران|Baran",
    "آیلین|Aylin", "رها|Raha", "کیانا|Kiana", "بهاره|Bahareh", "ملیکا|Melika", "محدثه|Mohadeseh",
    "طاهره|Tahereh", "اعظم|Azam", "معصومه|Masoumeh", "سپیده|Sepideh", "گلناز|Golnaz", "شیوا|Shiva",
    "تینا|Tina", "هانیه|Haniyeh", "مائده|Maedeh", "نسترن|Nastaran", "دریا|Darya", "آناهیتا|Anahita",
    "ژیلا|Zhila",
};

static const char *const ir_last[] = {
    "محمدی|Mohammadi", "حسینی|Hosseini", "احمدی|Ahmadi", "رضایی|Rezaei", "موسوی|Mousavi",
    "کریمی|Karimi", "جعفری|Jafari", "رحیمی|Rahimi", "صادقی|Sadeghi", "قاسمی|Ghasemi",
    "حیدری|Heydari", "نوری|Nouri", "کاظمی|Kazemi", "اکبری|Akbari", "عباسی|Abbasi",
    "سلیمانی|Soleimani", "رحمانی|Rahmani", "یوسفی|Yousefi", "باقری|Bagheri", "امینی|Amini",
    "نجفی|Najafi", "محمودی|Mahmoudi", "شریفی|Sharifi", "طاهری|Taheri", "کامرانی|Kamrani",
    "زارعی|Zarei", "مرادی|Moradi", "قربانی|Ghorbani", "سبحانی|Sobhani", "فرهادی|Farhadi",
    "نظری|Nazari", "افشار|Afshar", "تهرانی|Tehrani", "شیرازی|Shirazi", "اصفهانی|Esfahani",
    "کرمانی|Kermani", "تبریزی|Tabrizi", "یزدانی|Yazdani", "زمانی|Zamani", "ملکی|Maleki",
    "صالحی|Salehi", "بهرامی|Bahrami", "خسروی|Khosravi", "جلالی|Jalali", "علوی|Alavi",
    "هاشمی|Hashemi", "میرزایی|Mirzaei", "فتحی|Fathi", "سهرابی|Sohrabi", "پناهی|Panahi",
    "رستمی|Rostami", "کیانی|Kiani", "نیکپور|Nikpour", "توکلی|Tavakoli", "دهقان|Dehghan",
};

static const char *const ir_streets[] = {
    "خیابان ولیعصر", "خیابان انقلاب", "خیابان آزادی", "خیابان شریعتی", "خیابان فردوسی",
    "خیابان حافظ", "خیابان سعدی", "خیابان امام خمینی", "خیابان طالقانی", "خیابان مطهری",
    "خیابان بهشتی", "خیابان کارگر", "خیابان ستارخان", "خیابان جمهوری", "خیابان پاسداران",
    "خیابان دماوند", "خیابان پیروزی", "خیابان نیاوران", "خیابان میرداماد", "خیابان ظفر",
    "خیابان گاندی", "خیابان مولوی", "خیابان کریمخان زند", "خیابان فاطمی", "بلوار کشاورز",
    "بلوار ارتش", "خیابان سپه", "خیابان امیرکبیر", "خیابان خیام", "خیابان مصدق", "خیابان شهریار",
    "خیابان نظامی", "خیابان رودکی", "خیابان عطار",
};

static const char *const ir_cities[] = {
    "تهران", "مشهد", "اصفهان", "کرج", "شیراز", "تبریز", "قم", "اهواز", "کرمانشاه", "ارومیه", "رشت",
    "زاهدان", "همدان", "کرمان", "یزد", "اردبیل", "بندرعباس", "اراک", "اسلامشهر", "زنجان", "سنندج",
    "قزوین", "گرگان", "ساری", "شهریار", "قدس", "کاشان", "ملارد", "دزفول", "نیشابور", "بابل",
    "سبزوار", "آمل", "بوشهر", "بیرجند", "بجنورد", "ایلام", "شهرکرد", "یاسوج", "سمنان", "بروجرد",
    "آبادان", "ساوه",
};

static const char *const ir_states[] = {
    "تهران", "اصفهان", "فارس", "خراسان رضوی", "خوزستان", "آذربایجان شرقی", "آذربایجان غربی",
    "کرمان", "مازندران", "گیلان", "سیستان و بلوچستان", "کرمانشاه", "البرز", "گلستان", "هرمزگان",
    "همدان", "یزد", "لرستان", "اردبیل", "مرکزی", "قزوین", "قم", "کردستان", "زنجان", "بوشهر",
    "چهارمحال و بختیاری", "خراسان شمالی", "خراسان جنوبی", "سمنان", "کهگیلویه و بویراحمد", "ایلام",
};

/* ---- MX: Mexico --------------------------------------------------------- */

static const char *const mx_male_first[] = {
    "José", "Juan", "Luis", "Carlos", "Jorge", "Miguel", "Francisco", "Alejandro", "Jesús",
    "Antonio", "Manuel", "Pedro", "Ricardo", "Fernando", "Eduardo", "Roberto", "Javier", "Raúl",
    "Sergio", "Arturo", "Héctor", "Enrique", "Alberto", "Rafael", "Mario", "Óscar", "Guillermo",
    "Gerardo", "Salvador", "Armando", "Ramón", "Rodrigo", "Emiliano", "Santiago", "Mateo",
    "Sebastián", "Diego", "Leonardo", "Iker", "Ángel", "Gael", "Joaquín", "Andrés", "Ignacio",
    "Gustavo", "Martín", "Hugo", "Rogelio", "Efraín", "Ernesto", "Alfredo", "Adrián", "Rubén",
    "Octavio", "Cuauhtémoc",
};

static const char *const mx_female_first[] = {
    "María", "Guadalupe", "Juana", "Margarita", "Verónica", "Leticia", "Rosa", "Francisca",
    "Patricia", "Alejandra", "Gabriela", "Elizabeth", "Adriana", "Claudia", "Araceli", "Yolanda",
    "Silvia", "Martha", "Sofía", "Ximena", "Valentina", "Regina", "Camila", "Renata", "Fernanda",
    "Daniela", "Andrea", "Mariana", "Paola", "Karla", "Itzel", "Citlali", "Xóchitl", "Lupita",
    "Dolores", "Carmen", "Beatriz", "Esperanza", "Rocío", "Lorena", "Alma", "Norma", "Blanca",
    "Luz", "Isabel", "Ana", "Jimena", "Natalia", "Valeria", "Romina", "Lucía", "Estela", "Susana",
    "Cecilia",
};

static const char *const mx_last[] = {
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
    "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
    "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina",
    "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz", "Rojas", "Contreras", "Salazar", "Luna",
    "Ortega", "Santiago", "Guerrero", "Estrada", "Bautista", "Cortés", "Soto", "Alvarado",
    "Espinoza", "Lara", "Ávila", "Ríos", "Cervantes", "Delgado", "Zamora", "Olvera", "Villanueva",
    "Navarro", "Campos",
};

static const char *const mx_streets[] = {
    "Avenida Insurgentes", "Paseo de la Reforma", "Avenida Juárez", "Calle Madero",
    "Calle 5 de Mayo", "Calle 16 de Septiembre", "Avenida Hidalgo", "Calle Morelos",
    "Avenida Revolución", "Calle Allende", "Calle Zaragoza", "Avenida Benito Juárez",
    "Calle Guerrero", "Calle Independencia", "Avenida Universidad", "Calle Aldama",
    "Avenida Chapultepec", "Calle Matamoros", "Calle Galeana", "Avenida Vallarta",
    "Calle Constitución", "Calle Niños Héroes", "Calle Emiliano Zapata", "Calle Francisco Villa",
    "Avenida Lázaro Cárdenas", "Calle Obregón", "Calle Victoria", "Avenida Constituyentes",
    "Calle Reforma", "Calle Colón", "Calle Abasolo", "Calle Juan Escutia", "Calle Pino Suárez",
};

static const char *const mx_cities[] = {
    "Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Tijuana", "León", "Ciudad Juárez",
    "Zapopan", "Mérida", "San Luis Potosí", "Aguascalientes", "Hermosillo", "Saltillo", "Mexicali",
    "Culiacán", "Querétaro", "Chihuahua", "Morelia", "Toluca", "Cancún", "Acapulco", "Torreón",
    "Tlaquepaque", "Durango", "Veracruz", "Xalapa", "Villahermosa", "Tuxtla Gutiérrez", "Oaxaca",
    "Reynosa", "Tampico", "Mazatlán", "Cuernavaca", "Irapuato", "Celaya", "Ensenada", "Pachuca",
    "Tepic", "Colima", "Zacatecas", "Campeche", "Chetumal", "La Paz", "Tlaxcala", "Guanajuato",
    "Matamoros", "Nuevo Laredo", "Ciudad Obregón", "Los Mochis", "Puerto Vallarta",
};

static const char *const mx_states[] = {
    "Aguascalientes", "Baja California", "Baja California Sur", "Campeche", "Chiapas", "Chihuahua",
    "Ciudad de México", "Coahuila", "Colima", "Durango", "Estado de México", "Guanajuato",
    "Guerrero", "Hidalgo", "Jalisco", "Michoacán", "Morelos", "Nayarit", "Nuevo León", "Oaxaca",
    "Puebla", "Querétaro", "Quintana Roo", "San Luis Potosí", "Sinaloa", "Sonora", "Tabasco",
    "Tamaulipas", "Tlaxcala", "Veracruz", "Yucatán", "Zacatecas",
};

/* ---- NL: Netherlands ---------------------------------------------------- */

static const char *const nl_male_first[] = {
    "Daan", "Sem", "Noah", "Lucas", "Levi", "Finn", "Luuk", "Milan", "Bram", "Jesse", "Thijs",
    "Lars", "Sven", "Ruben", "Stijn", "Tim", "Thomas", "Jeroen", "Bas", "Joost", "Maarten",
    "Pieter", "Jan", "Kees", "Henk", "Gerrit", "Wim", "Willem", "Johannes", "Hendrik", "Cornelis",
    "Dirk", "Gijs", "Sjoerd", "Wouter", "Niels", "Koen", "Rutger", "Teun", "Jasper", "Mees", "Siem",
    "Jens", "Joris", "Floris", "Hugo", "Job", "Jurre", "Tijmen", "Arjen", "Marco", "Ruud", "Frank",
    "Erik", "Freek", "Rik",
};

static const char *const nl_female_first[] = {
    "Emma", "Julia", "Tess", "Sophie", "Zoë", "Mila", "Sara", "Anna", "Eva", "Evi", "Lotte", "Lisa",
    "Fleur", "Sanne", "Femke", "Iris", "Noor", "Saar", "Lieke", "Roos", "Fenna", "Nina", "Lynn",
    "Maud", "Yara", "Isa", "Elin", "Jet", "Fien", "Floor", "Anouk", "Marieke", "Ingrid",
    "Annemarie", "Wilma", "Gerda", "Joke", "Ria", "Tineke", "Margriet", "Hanneke", "Mirjam",
    "Esther", "Linda", "Ilse", "Merel", "Renske", "Sietske", "Willemijn", "Annelies", "Liesbeth",
    "Jolien", "Nienke",
};

static const char *const nl_last[] = {
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
    "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen", "van den Heuvel", "van der Veen",
    "van den Broek", "de Bruijn", "de Bruin", "van der Heijden", "Schouten", "van Beek", "Willems",
    "van Vliet", "van de Ven", "Hoekstra", "Maas", "Verhoeven", "Koster", "van Dam", "van der Wal",
    "Prins", "Blom", "Huisman", "Peeters", "de Lange", "Kuipers", "van Wijk", "Postma", "Veenstra",
    "Kramer", "van den Bosch", "van Rijn", "Zwart", "ter Haar",
};

static const char *const nl_streets[] = {
    "Kerkstraat", "Schoolstraat", "Molenstraat", "Dorpsstraat", "Julianastraat", "Beatrixstraat",
    "Wilhelminastraat", "Nieuwstraat", "Stationsweg", "Kastanjelaan", "Eikenlaan", "Parallelweg",
    "Marktstraat", "Hoofdstraat", "Prinsengracht", "Keizersgracht", "Herengracht", "Damrak",
    "Kalverstraat", "Oudegracht", "Emmastraat", "Oranjestraat", "Lindenlaan", "Beukenlaan",
    "Sportlaan", "Vondelstraat", "Rembrandtlaan", "Zandweg", "Dijkstraat", "Kanaalweg", "Singel",
    "Havenstraat",
};

static const char *const nl_cities[] = {
    "Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg", "Almere",
    "Breda", "Nijmegen", "Apeldoorn", "Haarlem", "Arnhem", "Enschede", "Amersfoort", "Zaandam",
    "'s-Hertogenbosch", "Hoofddorp", "Zwolle", "Zoetermeer", "Leiden", "Maastricht", "Dordrecht",
    "Ede", "Alphen aan den Rijn", "Alkmaar", "Emmen", "Delft", "Venlo", "Deventer", "Sittard",
    "Helmond", "Oss", "Amstelveen", "Hilversum", "Leeuwarden", "Heerlen", "Hoorn", "Roosendaal",
    "Purmerend", "Middelburg", "Assen", "Lelystad", "Gouda", "Vlissingen", "Schiedam", "Den Helder",
    "Harderwijk", "Kampen", "Zutphen",
};

static const char *const nl_states[] = {
    "Drenthe", "Flevoland", "Friesland", "Gelderland", "Groningen", "Limburg", "Noord-Brabant",
    "Noord-Holland", "Overijssel", "Utrecht", "Zeeland", "Zuid-Holland",
};

/* ---- NO: Norway --------------------------------------------------------- */

static const char *const no_male_first[] = {
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas", "Hans",
    "Geir", "Tor", "Morten", "Terje", "Odd", "Martin", "Erik", "Rune", "Trond", "Jon", "Anders",
    "Harald", "Magnus", "Håkon", "Sindre", "Henrik", "Kristian", "Eirik", "Sander", "Jonas", "Emil",
    "Mathias", "Tobias", "William", "Oskar", "Filip", "Aksel", "Isak", "Ludvig", "Olav", "Sigurd",
    "Vegard", "Øystein", "Ståle", "Torbjørn", "Ivar", "Gunnar", "Leif", "Nils", "Halvor", "Espen",
    "Steinar", "Asbjørn", "Øyvind", "Jørgen", "Even", "Ulrik",
};

static const char *const no_female_first[] = {
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg", "Hilde",
    "Anna", "Solveig", "Randi", "Marianne", "Nina", "Ida", "Ingeborg", "Hanne", "Silje", "Ragnhild",
    "Tone", "Nora", "Emma", "Sofie", "Sara", "Maja", "Olivia", "Emilie", "Ella", "Leah", "Frida",
    "Thea", "Hedda", "Vilde", "Tiril", "Mari", "Synnøve", "Gro", "Sigrid", "Åse", "Aud", "Gunhild",
    "Turid", "Wenche", "Karoline", "Mathilde", "Tuva", "Linnea", "Signe", "Henriette", "Guro",
    "Siri", "Eli", "Gudrun", "Torunn",
};

static const char *const no_last[] = {
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen", "Lund",
    "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide",
    "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen", "Lie", "Amundsen",
    "Rasmussen", "Lunde", "Solheim", "Berge", "Moe", "Nygård", "Bakke", "Kristensen", "Fredriksen",
    "Holm", "Lien", "Hauge", "Christensen", "Andresen", "Nielsen", "Knudsen", "Evensen", "Sæther",
    "Aas", "Myhre", "Hanssen", "Ødegård", "Tangen", "Haugland", "Aasen", "Brekke", "Sandvik", "Vik",
    "Rønning", "Fjeld",
};

static const char *const no_streets[] = {
    "Storgata", "Kirkegata", "Skolegata", "Kongens gate", "Dronningens gate", "Karl Johans gate",
    "Torggata", "Parkveien", "Kirkeveien", "Skogveien", "Bakkeveien", "Strandveien",
    "Industriveien", "Stasjonsveien", "Granveien", "Bjørkeveien", "Furuveien", "Solveien",
    "Markveien", "Fjellveien", "Havnegata", "Nedre Slottsgate", "Øvre Slottsgate", "Bogstadveien",
    "Thorvald Meyers gate", "Trondheimsveien", "Grensen", "Prinsens gate", "Olav Tryggvasons gate",
    "Sjøgata", "Elvegata", "Ringveien", "Åsveien", "Rådhusgata", "Nordre gate", "Søndre gate",
};

static const char *const no_cities[] = {
    "Oslo", "Bergen", "Trondheim", "Stavanger", "Drammen", "Fredrikstad", "Kristiansand", "Sandnes",
    "Tromsø", "Sarpsborg", "Skien", "Ålesund", "Sandefjord", "Haugesund", "Tønsberg", "Moss",
    "Porsgrunn", "Bodø", "Arendal", "Hamar", "Larvik", "Halden", "Lillehammer", "Harstad", "Molde",
    "Kongsberg", "Gjøvik", "Horten", "Mo i Rana", "Kristiansund", "Jessheim", "Narvik", "Alta",
    "Hønefoss", "Elverum", "Askim", "Leirvik", "Grimstad", "Steinkjer", "Kongsvinger", "Egersund",
    "Mandal", "Namsos", "Levanger", "Notodden", "Førde", "Hammerfest", "Vadsø", "Kirkenes",
    "Lillesand", "Florø", "Stjørdal", "Lørenskog", "Sandvika", "Sogndal",
};

static const char *const no_states[] = {
    "Oslo", "Akershus", "Østfold", "Buskerud", "Vestfold", "Telemark", "Innlandet", "Agder",
    "Rogaland", "Vestland", "Møre og Romsdal", "Trøndelag", "Nordland", "Troms", "Finnmark",
};

/* ---- NZ: New Zealand ---------------------------------------------------- */

static const char *const nz_male_first[] = {
    "Oliver", "Jack", "Noah", "Leo", "George", "William", "Charlie", "Lucas", "Hunter", "James",
    "Thomas", "Benjamin", "Mason", "Liam", "Max", "Harrison", "Jacob", "Ethan", "Samuel", "Hamish",
    "Angus", "Finn", "Blake", "Cameron", "Logan", "Ryan", "Tyler", "Jayden", "Riley", "Connor",
    "Bradley", "Craig", "Glen", "Grant", "Shane", "Wayne", "Nathan", "Joshua", "Nikau", "Tama",
    "Wiremu", "Rangi", "Tāne", "Hemi", "Manaia", "Ari", "Mikaere", "Rāwiri", "Tamati", "Te Ariki",
    "Hōhepa", "Kauri", "Ihaia", "Matiu",
};

static const char *const nz_female_first[] = {
    "Charlotte", "Isla", "Olivia", "Amelia", "Mia", "Harper", "Ava", "Willow", "Lily", "Ella",
    "Sophie", "Grace", "Ruby", "Zoe", "Emily", "Hannah", "Georgia", "Jessica", "Chloe", "Sarah",
    "Emma", "Rebecca", "Kate", "Holly", "Brooke", "Madison", "Paige", "Jade", "Shannon", "Nicole",
    "Amber", "Kelly", "Michelle", "Hayley", "Aroha", "Mere", "Anahera", "Kaia", "Maia", "Ngaio",
    "Hine", "Moana", "Kahurangi", "Tūī", "Ataahua", "Āwhina", "Marama", "Huia", "Pania", "Waimarie",
    "Mereana", "Rangimārie",
};

static const char *const nz_last[] = {
    "Smith", "Wilson", "Williams", "Brown", "Taylor", "Jones", "Anderson", "Thompson", "Walker",
    "Harris", "Martin", "White", "Clark", "Young", "Campbell", "Robinson", "Scott", "Stewart",
    "Thomas", "Wood", "King", "Kelly", "Baker", "Hall", "Mitchell", "Edwards", "Morris", "Turner",
    "Davis", "Johnson", "Moore", "MacDonald", "Fraser", "Murray", "Ross", "Reid", "Henderson",
    "Robertson", "Singh", "Lee", "Wang", "Patel", "Ngata", "Parata", "Tipene", "Waititi", "Pōmare",
    "Horomona", "Rewi", "Tamihana", "Hohaia", "Te Kanawa", "Wihongi", "Kereama", "Paewai",
    "Tomoana", "Karaka", "Herewini",
};

static const char *const nz_streets[] = {
    "Queen Street", "Karangahape Road", "Ponsonby Road", "Dominion Road", "Great North Road",
    "Great South Road", "Lambton Quay", "Cuba Street", "Willis Street", "Colombo Street",
    "Riccarton Road", "Papanui Road", "George Street", "Princes Street", "Victoria Street",
    "Cameron Road", "Devonport Road", "Grey Street", "Tasman Street", "Rata Street", "Kauri Street",
    "Totara Avenue", "Pōhutukawa Drive", "Kowhai Road", "Nikau Street", "Manuka Road",
    "Matai Street", "Rimu Road", "Te Atatu Road", "Tamaki Drive", "Hobson Street",
    "Fitzgerald Avenue", "Harewood Road",
};

static const char *const nz_cities[] = {
    "Auckland", "Wellington", "Christchurch", "Hamilton", "Tauranga", "Lower Hutt", "Dunedin",
    "Palmerston North", "Napier", "Hastings", "Nelson", "Rotorua", "New Plymouth", "Whangārei",
    "Invercargill", "Whanganui", "Upper Hutt", "Gisborne", "Porirua", "Blenheim", "Timaru", "Taupō",
    "Masterton", "Levin", "Ashburton", "Cambridge", "Queenstown", "Oamaru", "Greymouth",
    "Whakatāne", "Kaitaia", "Te Awamutu", "Tokoroa", "Hāwera", "Feilding", "Rangiora", "Richmond",
    "Kerikeri", "Thames", "Wānaka", "Te Puke", "Motueka", "Dannevirke", "Westport", "Kaikōura",
    "Picton", "Paraparaumu",
};

static const char *const nz_states[] = {
    "Northland", "Auckland", "Waikato", "Bay of Plenty", "Gisborne", "Hawke's Bay", "Taranaki",
    "Manawatū-Whanganui", "Wellington", "Tasman", "Nelson", "Marlborough", "West Coast",
    "Canterbury", "Otago", "Southland",
};

/* ---- RS: Serbia --------------------------------------------------------- */

static const char *const rs_male_first[] = {
    "Aleksandar", "Nikola", "Stefan", "Marko", "Luka", "Milan", "Nemanja", "Dragan", "Zoran",
    "Dejan", "Goran", "Miloš", "Vladimir", "Dušan", "Jovan", "Petar", "Đorđe", "Uroš", "Lazar",
    "Vuk", "Filip", "Ognjen", "Vasilije", "Mihajlo", "Bogdan", "Strahinja", "Dimitrije", "Andrija",
    "Srđan", "Slobodan", "Miroslav", "Branko", "Radomir", "Dragoljub", "Živorad", "Predrag",
    "Nenad", "Saša", "Ivan", "Igor", "Bojan", "Darko", "Vladan", "Milorad", "Radoslav", "Momčilo",
    "Čedomir", "Ljubomir", "Velimir", "Žarko", "Veljko", "Dalibor", "Aleksa", "Pavle", "Relja",
    "Vukašin",
};

static const char *const rs_female_first[] = {
    "Milica", "Jelena", "Ana", "Marija", "Jovana", "Ivana", "Dragana", "Snežana", "Gordana",
    "Mirjana", "Vesna", "Ljiljana", "Nataša", "Tijana", "Katarina", "Sara", "Teodora", "Anđela",
    "Sofija", "Nina", "Mina", "Dunja", "Lana", "Ksenija", "Aleksandra", "Tamara", "Jasmina",
    "Biljana", "Svetlana", "Zorica", "Slađana", "Danijela", "Marina", "Nevena", "Olivera", "Bojana",
    "Vera", "Radmila", "Desanka", "Dragica", "Ružica", "Ljubica", "Nadežda", "Kosara", "Vasilija",
    "Iva", "Petra", "Hristina", "Emilija", "Bosiljka", "Stanislava", "Dušica", "Jadranka",
};

static const char *const rs_last[] = {
    "Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić", "Stanković",
    "Pavlović", "Milošević", "Popović", "Đukić", "Kostić", "Tomić", "Savić", "Lazić", "Mitrović",
    "Ristić", "Jović", "Kovačević", "Lukić", "Obradović", "Todorović", "Živković", "Simić",
    "Stefanović", "Ivanović", "Milovanović", "Radovanović", "Marinković", "Vasić", "Pešić",
    "Janković", "Radosavljević", "Stevanović", "Miljković", "Filipović", "Bogdanović", "Đurić",
    "Mladenović", "Vuković", "Radić", "Nedeljković", "Milenković", "Zdravković", "Krstić", "Antić",
    "Babić", "Vučković", "Mihajlović", "Šarić", "Božić", "Cvetković", "Ćirić", "Andrić", "Gajić",
    "Dimitrijević", "Matić",
};

static const char *const rs_streets[] = {
    "Knez Mihailova", "Terazije", "Bulevar kralja Aleksandra", "Bulevar oslobođenja",
    "Kralja Milana", "Nemanjina", "Takovska", "Cara Dušana", "Kneza Miloša", "Vojvode Stepe",
    "Bulevar Mihajla Pupina", "Njegoševa", "Svetogorska", "Karađorđeva", "Makedonska", "Resavska",
    "Gospodar Jevremova", "Dositejeva", "Skadarska", "Zmaj Jovina", "Bulevar Nikole Tesle",
    "Vuka Karadžića", "Nikole Pašića", "Kralja Petra", "Cara Lazara", "Vojvode Mišića",
    "Obrenovićeva", "Jug Bogdanova", "Vidovdanska", "Hilandarska", "Miloša Obilića",
    "Stevana Sremca", "Svetog Save",
};

static const char *const rs_cities[] = {
    "Beograd", "Novi Sad", "Niš", "Kragujevac", "Subotica", "Zrenjanin", "Pančevo", "Čačak",
    "Kraljevo", "Novi Pazar", "Smederevo", "Leskovac", "Užice", "Vranje", "Valjevo", "Šabac",
    "Kruševac", "Sombor", "Požarevac", "Pirot", "Zaječar", "Kikinda", "Sremska Mitrovica",
    "Jagodina", "Vršac", "Bor", "Prokuplje", "Loznica", "Ćuprija", "Paraćin", "Aranđelovac",
    "Gornji Milanovac", "Negotin", "Bečej", "Inđija", "Ruma", "Stara Pazova", "Vrbas", "Apatin",
    "Knjaževac", "Ivanjica", "Sjenica", "Prijepolje", "Kladovo", "Obrenovac", "Lazarevac",
    "Mladenovac", "Sokobanja", "Vrnjačka Banja", "Senta",
};

static const char *const rs_states[] = {
    "Severna Bačka", "Srednji Banat", "Severni Banat", "Južni Banat", "Zapadna Bačka",
    "Južna Bačka", "Srem", "Mačva", "Kolubara", "Podunavlje", "Braničevo", "Šumadija", "Pomoravlje",
    "Bor", "Zaječar", "Zlatibor", "Moravica", "Raška", "Rasina", "Nišava", "Toplica", "Pirot",
    "Jablanica", "Pčinja", "Beograd",
};

/* ---- TR: Turkey --------------------------------------------------------- */

static const char *const tr_male_first[] = {
    "Mehmet", "Mustafa", "Ahmet", "Ali", "Hüseyin", "Hasan", "İbrahim", "İsmail", "Osman", "Yusuf",
    "Murat", "Ömer", "Ramazan", "Halil", "Süleyman", "Abdullah", "Mahmut", "Recep", "Salih",
    "Fatih", "Kadir", "Emre", "Hakan", "Burak", "Serkan", "Selim", "Gökhan", "Oğuz", "Tolga",
    "Kerem", "Cem", "Barış", "Uğur", "Onur", "Eren", "Emir", "Yiğit", "Çağlar", "Deniz", "Berk",
    "Alp", "Kaan", "Tuncay", "Cengiz", "Ercan", "Volkan", "Doğan", "Şükrü", "Şahin", "Ilgaz",
    "Aras", "Göktuğ", "Efe", "Kağan", "Batuhan", "Furkan", "Enes", "Umut", "Mert",
};

static const char *const tr_female_first[] = {
    "Fatma", "Ayşe", "Emine", "Hatice", "Zeynep", "Elif", "Meryem", "Şerife", "Zehra", "Sultan",
    "Hanife", "Merve", "Havva", "Zeliha", "Esra", "Fadime", "Özlem", "Hacer", "Melek", "Yasemin",
    "Hülya", "Dilek", "Büşra", "Leyla", "Derya", "Gül", "Songül", "Sevgi", "Gülsüm", "Kübra",
    "Tuğba", "Ebru", "Aslı", "Burcu", "Pınar", "Çiğdem", "Şeyma", "Nur", "Ecrin", "Defne", "Azra",
    "Eylül", "Nisa", "Duru", "Asya", "İrem", "Beren", "Ceren", "Selin", "Damla", "Gizem", "Sıla",
    "Tülay", "Nilüfer", "Nazlı", "Aylin", "Öykü",
};

static const char *const tr_last[] = {
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
    "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan", "Şimşek", "Polat",
    "Özcan", "Korkmaz", "Çakır", "Erdoğan", "Yavuz", "Can", "Acar", "Şen", "Aktaş", "Güler",
    "Yalçın", "Güneş", "Bozkurt", "Bulut", "Keskin", "Ünal", "Turan", "Gül", "Özer", "Işık",
    "Kaplan", "Avcı", "Sarı", "Tekin", "Taş", "Köse", "Yüksel", "Ateş", "Aksoy", "Karataş", "Uçar",
    "Tunç", "Akın", "Erdem", "Güven", "Altun", "Baysal", "Duman", "Karakaya",
};

static const char *const tr_streets[] = {
    "Atatürk Caddesi", "İstiklal Caddesi", "Cumhuriyet Caddesi", "Bağdat Caddesi",
    "Gazi Mustafa Kemal Bulvarı", "İnönü Caddesi", "Fevzi Çakmak Caddesi",
    "Kıbrıs Şehitleri Caddesi", "Menekşe Sokak", "Lale Sokak", "Gül Sokak", "Papatya Sokak",
    "Çiçek Sokak", "Bahçe Sokak", "Okul Sokak", "Cami Sokak", "Mektep Sokak", "Pınar Sokak",
    "Çınar Sokak", "Akasya Sokak", "Ihlamur Sokak", "Kavak Sokak", "Hürriyet Caddesi",
    "Millet Caddesi", "Vatan Caddesi", "İstasyon Caddesi", "Barbaros Bulvarı",
    "Abdi İpekçi Caddesi", "Talatpaşa Caddesi", "Kazım Karabekir Caddesi", "Mevlana Caddesi",
    "Şehitler Caddesi", "Necatibey Caddesi",
};

static const char *const tr_cities[] = {
    "İstanbul", "Ankara", "İzmir", "Bursa", "Antalya", "Konya", "Adana", "Gaziantep", "Şanlıurfa",
    "İzmit", "Mersin", "Diyarbakır", "Kayseri", "Eskişehir", "Samsun", "Denizli", "Malatya",
    "Kahramanmaraş", "Erzurum", "Van", "Batman", "Elazığ", "Sivas", "Manisa", "Trabzon",
    "Balıkesir", "Adapazarı", "Kütahya", "Tekirdağ", "Çorum", "Isparta", "Osmaniye", "Aydın",
    "Çanakkale", "Bolu", "Edirne", "Kırıkkale", "Düzce", "Uşak", "Tokat", "Afyonkarahisar", "Ordu",
    "Giresun", "Rize", "Zonguldak", "Karabük", "Bodrum", "Alanya", "Marmaris", "Fethiye", "Çeşme",
    "İskenderun", "Tarsus", "Nevşehir", "Niğde", "Aksaray", "Yalova", "Kars", "Ağrı", "Muğla",
    "Sinop", "Amasya",
};

static const char *const tr_states[] = {
    "Adana", "Adıyaman", "Afyonkarahisar", "Ağrı", "Amasya", "Ankara", "Antalya", "Artvin", "Aydın",
    "Balıkesir", "Bilecik", "Bingöl", "Bitlis", "Bolu", "Burdur", "Bursa", "Çanakkale", "Çankırı",
    "Çorum", "Denizli", "Diyarbakır", "Edirne", "Elazığ", "Erzincan", "Erzurum", "Eskişehir",
    "Gaziantep", "Giresun", "Gümüşhane", "Hakkâri", "Hatay", "Isparta", "Mersin", "İstanbul",
    "İzmir", "Kars", "Kastamonu", "Kayseri", "Kırklareli", "Kırşehir", "Kocaeli", "Konya",
    "Kütahya", "Malatya", "Manisa", "Kahramanmaraş", "Mardin", "Muğla", "Muş", "Nevşehir", "Niğde",
    "Ordu", "Rize", "Sakarya", "Samsun", "Siirt", "Sinop", "Sivas", "Tekirdağ", "Tokat", "Trabzon",
    "Tunceli", "Şanlıurfa", "Uşak", "Van", "Yozgat", "Zonguldak", "Aksaray", "Bayburt", "Karaman",
    "Kırıkkale", "Batman", "Şırnak", "Bartın", "Ardahan", "Iğdır", "Yalova", "Karabük", "Kilis",
    "Osmaniye", "Düzce",
};

/* ---- UA: Ukraine -------------------------------------------------------- */

static const char *const ua_male_first[] = {
    "Олександр|Oleksandr", "Андрій|Andriy", "Сергій|Serhiy", "Володимир|Volodymyr", "Дмитро|Dmytro",
    "Максим|Maksym", "Віктор|Viktor", "Юрій|Yuriy", "Олег|Oleh", "Іван|Ivan", "Михайло|Mykhailo",
    "Микола|Mykola", "Василь|Vasyl", "Петро|Petro", "Богдан|Bohdan", "Ярослав|Yaroslav",
    "Тарас|Taras", "Остап|Ostap", "Назар|Nazar", "Денис|Denys", "Роман|Roman", "Євген|Yevhen",
    "Віталій|Vitaliy", "Анатолій|Anatoliy", "Олексій|Oleksiy", "Ігор|Ihor", "Степан|Stepan",
    "Григорій|Hryhoriy", "Павло|Pavlo", "Артем|Artem", "Владислав|Vladyslav",
    "Святослав|Sviatoslav", "Мирослав|Myroslav", "Станіслав|Stanislav", "Валентин|Valentyn",
    "Костянтин|Kostiantyn", "Тимофій|Tymofiy", "Матвій|Matviy", "Давид|Davyd", "Марко|Marko",
    "Захар|Zakhar", "Ілля|Illia", "Кирило|Kyrylo", "Данило|Danylo", "Леонід|Leonid", "Борис|Borys",
    "Федір|Fedir", "Зеновій|Zenoviy", "Орест|Orest", "Любомир|Liubomyr", "Всеволод|Vsevolod",
    "Юліан|Yulian", "Арсеній|Arseniy",
};

static const char *const ua_female_first[] = {
    "Олена|Olena", "Наталія|Nataliya", "Тетяна|Tetiana", "Ірина|Iryna", "Світлана|Svitlana",
    "Оксана|Oksana", "Юлія|Yuliya", "Людмила|Liudmyla", "Галина|Halyna", "Марія|Mariya",
    "Ольга|Olha", "Анна|Anna", "Катерина|Kateryna", "Віра|Vira", "Надія|Nadiya", "Любов|Liubov",
    "Валентина|Valentyna", "Лариса|Larysa", "Вікторія|Viktoriya", "Дарина|Daryna", "Софія|Sofiya",
    "Анастасія|Anastasiya", "Соломія|Solomiya", "Христина|Khrystyna", "Богдана|Bohdana",
    "Ярослава|Yaroslava", "Мирослава|Myroslava", "Зоряна|Zoriana", "Леся|Lesia", "Ганна|Hanna",
    "Уляна|Uliana", "Олеся|Olesia", "Маргарита|Marharyta", "Аліна|Alina", "Діана|Diana",
    "Вероніка|Veronika", "Єва|Yeva", "Злата|Zlata", "Поліна|Polina", "Ніна|Nina", "Раїса|Raisa",
    "Лідія|Lidiya", "Тамара|Tamara", "Зінаїда|Zinaida", "Євгенія|Yevheniya", "Роксолана|Roksolana",
    "Мар'яна|Mariana", "Стефанія|Stefaniya", "Кіра|Kira", "Василина|Vasylyna", "Інна|Inna",
    "Алла|Alla",
};

static const char *const ua_last[] = {
    "Шевченко|Shevchenko", "Коваленко|Kovalenko", "Бондаренко|Bondarenko", "Ткаченко|Tkachenko",
    "Кравченко|Kravchenko", "Олійник|Oliynyk", "Шевчук|Shevchuk", "Коваль|Koval",
    "Поліщук|Polishchuk", "Бондар|Bondar", "Ткачук|Tkachuk", "Мороз|Moroz", "Марченко|Marchenko",
    "Лисенко|Lysenko", "Руденко|Rudenko", "Савченко|Savchenko", "Петренко|Petrenko",
    "Клименко|Klymenko", "Павленко|Pavlenko", "Кравчук|Kravchuk", "Кузьменко|Kuzmenko",
    "Левченко|Levchenko", "Харченко|Kharchenko", "Карпенко|Karpenko", "Гнатюк|Hnatiuk",
    "Мельник|Melnyk", "Савчук|Savchuk", "Мельничук|Melnychuk", "Литвиненко|Lytvynenko",
    "Іваненко|Ivanenko", "Романенко|Romanenko", "Ковальчук|Kovalchuk", "Василенко|Vasylenko",
    "Сидоренко|Sydorenko", "Павлюк|Pavliuk", "Гончаренко|Honcharenko", "Дмитренко|Dmytrenko",
    "Зінченко|Zinchenko", "Кушнір|Kushnir", "Кириленко|Kyrylenko", "Юрченко|Yurchenko",
    "Грищенко|Hryshchenko", "Остапенко|Ostapenko", "Захарченко|Zakharchenko",
    "Тимошенко|Tymoshenko", "Франко|Franko", "Гордієнко|Hordiyenko", "Антоненко|Antonenko",
    "Нестеренко|Nesterenko", "Білик|Bilyk", "Козак|Kozak", "Дорошенко|Doroshenko",
    "Головко|Holovko", "Семенюк|Semeniuk", "Мартинюк|Martyniuk", "Федоренко|Fedorenko",
    "Костенко|Kostenko", "Вдовиченко|Vdovychenko",
};

static const char *const ua_streets[] = {
    "вулиця Шевченка", "вулиця Франка", "вулиця Лесі Українки", "вулиця Грушевського",
    "вулиця Хмельницького", "вулиця Сагайдачного", "вулиця Незалежності", "вулиця Соборна",
    "вулиця Садова", "вулиця Центральна", "вулиця Шкільна", "вулиця Польова", "вулиця Лісова",
    "вулиця Миру", "вулиця Молодіжна", "вулиця Зелена", "вулиця Київська", "вулиця Львівська",
    "вулиця Одеська", "вулиця Січових Стрільців", "вулиця Котляревського", "вулиця Сковороди",
    "вулиця Мазепи", "вулиця Драгоманова", "вулиця Коцюбинського", "проспект Свободи",
    "проспект Перемоги", "бульвар Тараса Шевченка", "вулиця Хрещатик", "вулиця Ярославів Вал",
    "вулиця Зарічна", "вулиця Набережна", "вулиця Вишнева", "вулиця Калинова",
};

static const char *const ua_cities[] = {
    "Київ", "Харків", "Одеса", "Дніпро", "Львів", "Запоріжжя", "Кривий Ріг", "Миколаїв", "Вінниця",
    "Херсон", "Полтава", "Чернігів", "Черкаси", "Хмельницький", "Житомир", "Суми", "Рівне",
    "Івано-Франківськ", "Кропивницький", "Тернопіль", "Луцьк", "Біла Церква", "Кременчук",
    "Ужгород", "Чернівці", "Мукачево", "Кам'янець-Подільський", "Бердичів", "Умань", "Ніжин",
    "Конотоп", "Дрогобич", "Коломия", "Ковель", "Павлоград", "Олександрія", "Бровари", "Ірпінь",
    "Буча", "Бориспіль", "Фастів", "Трускавець", "Стрий", "Самбір", "Ізмаїл", "Первомайськ",
    "Маріуполь", "Краматорськ", "Слов'янськ", "Мелітополь",
};

static const char *const ua_states[] = {
    "Вінницька область", "Волинська область", "Дніпропетровська область", "Донецька область",
    "Житомирська область", "Закарпатська область", "Запорізька область",
    "Івано-Франківська область", "Київська область", "Кіровоградська область", "Луганська область",
    "Львівська область", "Миколаївська область", "Одеська область", "Полтавська область",
    "Рівненська область", "Сумська область", "Тернопільська область", "Харківська область",
    "Херсонська область", "Хмельницька область", "Черкаська область", "Чернівецька область",
    "Чернігівська область", "Автономна Республіка Крим", "Київ", "Севастополь",
};

/* ---- US: United States -------------------------------------------------- */

static const char *const us_male_first[] = {
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
    "Charles", "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul",
    "Andrew", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward",
    "Jason", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry",
    "Justin", "Scott", "Brandon", "Benjamin", "Samuel", "Gregory", "Alexander", "Patrick", "Frank",
    "Raymond", "Jack", "Dennis", "Jerry", "Tyler", "Aaron", "Adam", "Nathan", "Henry", "Zachary",
    "Douglas", "Peter", "Kyle", "Noah", "Ethan", "Jeremy", "Walter", "Christian", "Keith", "Roger",
    "Terry", "Austin", "Sean", "Gerald", "Carl", "Harold", "Dylan", "Arthur", "Lawrence", "Jordan",
    "Jesse", "Bryan", "Billy", "Bruce", "Gabriel", "Logan", "Alan", "Albert", "Elijah", "Wayne",
    "Randy", "Vincent", "Mason", "Roy", "Ralph", "Bobby", "Russell", "Bradley", "Philip", "Eugene",
};

static const char *const us_female_first[] = {
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah",
    "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley", "Kimberly", "Emily", "Donna",
    "Michelle", "Carol", "Amanda", "Melissa", "Deborah", "Stephanie", "Dorothy", "Rebecca",
    "Sharon", "Laura", "Cynthia", "Amy", "Kathleen", "Angela", "Shirley", "Brenda", "Emma", "Anna",
    "Pamela", "Nicole", "Samantha", "Katherine", "Christine", "Helen", "Debra", "Rachel", "Carolyn",
    "Janet", "Maria", "Catherine", "Heather", "Diane", "Olivia", "Julie", "Joyce", "Victoria",
    "Ruth", "Virginia", "Lauren", "Kelly", "Christina", "Joan", "Evelyn", "Judith", "Andrea",
    "Hannah", "Megan", "Cheryl", "Jacqueline", "Martha", "Madison", "Teresa", "Gloria", "Sara",
    "Janice", "Ann", "Kathryn", "Abigail", "Sophia", "Frances", "Jean", "Alice", "Judy", "Isabella",
    "Julia", "Grace", "Amber", "Denise", "Danielle", "Marilyn", "Beverly", "Charlotte", "Natalie",
    "Theresa", "Diana", "Brittany", "Doris", "Kayla", "Alexis", "Lori", "Marie",
};

static const char *const us_last[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly",
    "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood",
    "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
};

static const char *const us_streets[] = {
    "Main St", "Oak St", "Pine St", "Maple Ave", "Cedar St", "Elm St", "Washington Ave", "Lake St",
    "Hill St", "Park Ave", "Church St", "High St", "Walnut St", "Spring St", "Center St",
    "Jefferson St", "Lincoln Ave", "Franklin St", "Madison Ave", "Sunset Blvd", "Broadway",
    "Highland Ave", "Meadow Ln", "Ridge Rd", "Forest Ave", "Railroad St", "River Rd",
    "Valley View Ln", "Chestnut St", "Willow Ave", "Cherry St", "Hickory Ln", "Lakeview Dr",
    "Mill St", "Dogwood Ave", "Fairview Rd", "Poplar Dr", "Sycamore Rd", "Adams St", "Fifth Ave",
    "Pecan St", "North St", "Country Club Rd", "Magnolia Dr", "Cedar Ridge Dr",
};

static const char *const us_cities[] = {
    "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia", "San Antonio",
    "San Diego", "Dallas", "San Jose", "Austin", "Jacksonville", "Fort Worth", "Columbus",
    "Charlotte", "Indianapolis", "San Francisco", "Seattle", "Denver", "Washington", "Nashville",
    "Oklahoma City", "El Paso", "Boston", "Portland", "Las Vegas", "Detroit", "Memphis",
    "Louisville", "Baltimore", "Milwaukee", "Albuquerque", "Tucson", "Fresno", "Sacramento",
    "Kansas City", "Mesa", "Atlanta", "Omaha", "Colorado Springs", "Raleigh", "Miami",
    "Virginia Beach", "Long Beach", "Oakland", "Minneapolis", "Tulsa", "Tampa", "Arlington",
    "New Orleans", "Wichita", "Cleveland", "Bakersfield", "Aurora", "Anaheim", "Honolulu",
    "Santa Ana", "Riverside", "Corpus Christi", "Lexington", "Pittsburgh", "Anchorage", "Stockton",
    "Cincinnati", "Saint Paul", "Toledo", "Greensboro", "Newark", "Plano", "Henderson", "Lincoln",
    "Buffalo", "Fort Wayne", "Jersey City", "Orlando", "St. Louis", "Boise", "Des Moines",
    "Salt Lake City", "Richmond", "Birmingham", "Spokane", "Rochester", "Providence", "Little Rock",
    "Savannah", "Billings", "Fargo", "Burlington", "Charleston", "Cheyenne", "Sioux Falls",
};

static const char *const us_states[] = {
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware",
    "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky",
    "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi",
    "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey", "New Mexico",
    "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania",
    "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah", "Vermont",
    "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
};

/* ---- Titles used by CH and FR ------------------------------------------- */

static const char *const fr_ch_male_titles[] = {
    "Monsieur",
};

static const char *const fr_ch_female_titles[] = {
    "Mademoiselle", "Madame",
};

/* ---- Nationalities ------------------------------------------------------ */

const spate_ru_nat_t spate_ru_nats[SPATE_RU_NNATS] = {
    {
        .code = "AU",
        .country = "Australia",
        .male_first = SPATE_RU_LIST(au_male_first),
        .female_first = SPATE_RU_LIST(au_female_first),
        .last = SPATE_RU_LIST(au_last),
        .streets = SPATE_RU_LIST(au_streets),
        .cities = SPATE_RU_LIST(au_cities),
        .states = SPATE_RU_LIST(au_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 200,
        .postcode_max = 9999,
        .phone_pattern = "0@-####-####",
        .cell_pattern = "04##-###-###",
        .id_name = "TFN",
        .id_pattern = "#########",
    },
    {
        .code = "BR",
        .country = "Brazil",
        .male_first = SPATE_RU_LIST(br_male_first),
        .female_first = SPATE_RU_LIST(br_female_first),
        .last = SPATE_RU_LIST(br_last),
        .streets = SPATE_RU_LIST(br_streets),
        .cities = SPATE_RU_LIST(br_cities),
        .states = SPATE_RU_LIST(br_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(@#) @###-####",
        .cell_pattern = "(@#) 9####-####",
        .id_name = "CPF",
        .id_pattern = "###.###.###-##",
    },
    {
        .code = "CA",
        .country = "Canada",
        .male_first = SPATE_RU_LIST(ca_male_first),
        .female_first = SPATE_RU_LIST(ca_female_first),
        .last = SPATE_RU_LIST(ca_last),
        .streets = SPATE_RU_LIST(ca_streets),
        .cities = SPATE_RU_LIST(ca_cities),
        .states = SPATE_RU_LIST(ca_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = "^#^ #^#",
        .postcode_min = 0,
        .postcode_max = 0,
        .phone_pattern = "(@##) @##-####",
        .cell_pattern = "(@##) @##-####",
        .id_name = "SIN",
        .id_pattern = "### ### ###",
    },
    {
        .code = "CH",
        .country = "Switzerland",
        .male_first = SPATE_RU_LIST(ch_male_first),
        .female_first = SPATE_RU_LIST(ch_female_first),
        .last = SPATE_RU_LIST(ch_last),
        .streets = SPATE_RU_LIST(ch_streets),
        .cities = SPATE_RU_LIST(ch_cities),
        .states = SPATE_RU_LIST(ch_states),
        .male_titles = SPATE_RU_LIST(fr_ch_male_titles),
        .female_titles = SPATE_RU_LIST(fr_ch_female_titles),
        .postcode_pattern = NULL,
        .postcode_min = 1000,
        .postcode_max = 9999,
        .phone_pattern = "0@# ### ## ##",
        .cell_pattern = "07@ ### ## ##",
        .id_name = "AVS",
        .id_pattern = "756.####.####.##",
    },
    {
        .code = "DE",
        .country = "Germany",
        .male_first = SPATE_RU_LIST(de_male_first),
        .female_first = SPATE_RU_LIST(de_female_first),
        .last = SPATE_RU_LIST(de_last),
        .streets = SPATE_RU_LIST(de_streets),
        .cities = SPATE_RU_LIST(de_cities),
        .states = SPATE_RU_LIST(de_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0###-#######",
        .cell_pattern = "017#-#######",
        .id_name = "SVNR",
        .id_pattern = "## {DD}{MM}{YY} ^ ###",
    },
    {
        .code = "DK",
        .country = "Denmark",
        .male_first = SPATE_RU_LIST(dk_male_first),
        .female_first = SPATE_RU_LIST(dk_female_first),
        .last = SPATE_RU_LIST(dk_last),
        .streets = SPATE_RU_LIST(dk_streets),
        .cities = SPATE_RU_LIST(dk_cities),
        .states = SPATE_RU_LIST(dk_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "@#######",
        .cell_pattern = "@#######",
        .id_name = "CPR",
        .id_pattern = "{DD}{MM}{YY}-####",
    },
    {
        .code = "ES",
        .country = "Spain",
        .male_first = SPATE_RU_LIST(es_male_first),
        .female_first = SPATE_RU_LIST(es_female_first),
        .last = SPATE_RU_LIST(es_last),
        .streets = SPATE_RU_LIST(es_streets),
        .cities = SPATE_RU_LIST(es_cities),
        .states = SPATE_RU_LIST(es_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "9##-###-###",
        .cell_pattern = "6##-###-###",
        .id_name = "DNI",
        .id_pattern = "########-^",
    },
    {
        .code = "FI",
        .country = "Finland",
        .male_first = SPATE_RU_LIST(fi_male_first),
        .female_first = SPATE_RU_LIST(fi_female_first),
        .last = SPATE_RU_LIST(fi_last),
        .streets = SPATE_RU_LIST(fi_streets),
        .cities = SPATE_RU_LIST(fi_cities),
        .states = SPATE_RU_LIST(fi_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@-###-###",
        .cell_pattern = "04#-###-##-##",
        .id_name = "HETU",
        .id_pattern = "{DD}{MM}{YY}-###^",
    },
    {
        .code = "FR",
        .country = "France",
        .male_first = SPATE_RU_LIST(fr_male_first),
        .female_first = SPATE_RU_LIST(fr_female_first),
        .last = SPATE_RU_LIST(fr_last),
        .streets = SPATE_RU_LIST(fr_streets),
        .cities = SPATE_RU_LIST(fr_cities),
        .states = SPATE_RU_LIST(fr_states),
        .male_titles = SPATE_RU_LIST(fr_ch_male_titles),
        .female_titles = SPATE_RU_LIST(fr_ch_female_titles),
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@-##-##-##-##",
        .cell_pattern = "06-##-##-##-##",
        .id_name = "INSEE",
        .id_pattern = "{G}{YY}{MM}######## ##",
    },
    {
        .code = "GB",
        .country = "United Kingdom",
        .male_first = SPATE_RU_LIST(gb_male_first),
        .female_first = SPATE_RU_LIST(gb_female_first),
        .last = SPATE_RU_LIST(gb_last),
        .streets = SPATE_RU_LIST(gb_streets),
        .cities = SPATE_RU_LIST(gb_cities),
        .states = SPATE_RU_LIST(gb_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = "^^## #^^",
        .postcode_min = 0,
        .postcode_max = 0,
        .phone_pattern = "01### ######",
        .cell_pattern = "07### ### ###",
        .id_name = "NINO",
        .id_pattern = "^^ ## ## ## ^",
    },
    {
        .code = "IE",
        .country = "Ireland",
        .male_first = SPATE_RU_LIST(ie_male_first),
        .female_first = SPATE_RU_LIST(ie_female_first),
        .last = SPATE_RU_LIST(ie_last),
        .streets = SPATE_RU_LIST(ie_streets),
        .cities = SPATE_RU_LIST(ie_cities),
        .states = SPATE_RU_LIST(ie_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@#-###-####",
        .cell_pattern = "08#-###-####",
        .id_name = "PPS",
        .id_pattern = "#######^",
    },
    {
        .code = "IN",
        .country = "India",
        .male_first = SPATE_RU_LIST(in_male_first),
        .female_first = SPATE_RU_LIST(in_female_first),
        .last = SPATE_RU_LIST(in_last),
        .streets = SPATE_RU_LIST(in_streets),
        .cities = SPATE_RU_LIST(in_cities),
        .states = SPATE_RU_LIST(in_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@#-########",
        .cell_pattern = "9#########",
        .id_name = "UIDAI",
        .id_pattern = "#### #### ####",
    },
    {
        .code = "IR",
        .country = "Iran",
        .male_first = SPATE_RU_LIST(ir_male_first),
        .female_first = SPATE_RU_LIST(ir_female_first),
        .last = SPATE_RU_LIST(ir_last),
        .streets = SPATE_RU_LIST(ir_streets),
        .cities = SPATE_RU_LIST(ir_cities),
        .states = SPATE_RU_LIST(ir_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@#-########",
        .cell_pattern = "09##-###-####",
        .id_name = "",
        .id_pattern = NULL,
    },
    {
        .code = "MX",
        .country = "Mexico",
        .male_first = SPATE_RU_LIST(mx_male_first),
        .female_first = SPATE_RU_LIST(mx_female_first),
        .last = SPATE_RU_LIST(mx_last),
        .streets = SPATE_RU_LIST(mx_streets),
        .cities = SPATE_RU_LIST(mx_cities),
        .states = SPATE_RU_LIST(mx_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(@##) ### ####",
        .cell_pattern = "(@##) ### ####",
        .id_name = "NSS",
        .id_pattern = "## ## ## #### #",
    },
    {
        .code = "NL",
        .country = "Netherlands",
        .male_first = SPATE_RU_LIST(nl_male_first),
        .female_first = SPATE_RU_LIST(nl_female_first),
        .last = SPATE_RU_LIST(nl_last),
        .streets = SPATE_RU_LIST(nl_streets),
        .cities = SPATE_RU_LIST(nl_cities),
        .states = SPATE_RU_LIST(nl_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(0@#) #######",
        .cell_pattern = "(06) ########",
        .id_name = "BSN",
        .id_pattern = "#########",
    },
    {
        .code = "NO",
        .country = "Norway",
        .male_first = SPATE_RU_LIST(no_male_first),
        .female_first = SPATE_RU_LIST(no_female_first),
        .last = SPATE_RU_LIST(no_last),
        .streets = SPATE_RU_LIST(no_streets),
        .cities = SPATE_RU_LIST(no_cities),
        .states = SPATE_RU_LIST(no_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = "####",
        .postcode_min = 0,
        .postcode_max = 0,
        .phone_pattern = "@#######",
        .cell_pattern = "4#######",
        .id_name = "FN",
        .id_pattern = "{DD}{MM}{YY}#####",
    },
    {
        .code = "NZ",
        .country = "New Zealand",
        .male_first = SPATE_RU_LIST(nz_male_first),
        .female_first = SPATE_RU_LIST(nz_female_first),
        .last = SPATE_RU_LIST(nz_last),
        .streets = SPATE_RU_LIST(nz_streets),
        .cities = SPATE_RU_LIST(nz_cities),
        .states = SPATE_RU_LIST(nz_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(0@)-###-####",
        .cell_pattern = "(02@)-###-####",
        .id_name = "",
        .id_pattern = NULL,
    },
    {
        .code = "RS",
        .country = "Serbia",
        .male_first = SPATE_RU_LIST(rs_male_first),
        .female_first = SPATE_RU_LIST(rs_female_first),
        .last = SPATE_RU_LIST(rs_last),
        .streets = SPATE_RU_LIST(rs_streets),
        .cities = SPATE_RU_LIST(rs_cities),
        .states = SPATE_RU_LIST(rs_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "0@#-####-###",
        .cell_pattern = "06@-####-###",
        .id_name = "SID",
        .id_pattern = "#############",
    },
    {
        .code = "TR",
        .country = "Turkey",
        .male_first = SPATE_RU_LIST(tr_male_first),
        .female_first = SPATE_RU_LIST(tr_female_first),
        .last = SPATE_RU_LIST(tr_last),
        .streets = SPATE_RU_LIST(tr_streets),
        .cities = SPATE_RU_LIST(tr_cities),
        .states = SPATE_RU_LIST(tr_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(@##)-###-####",
        .cell_pattern = "(5##)-###-####",
        .id_name = "",
        .id_pattern = NULL,
    },
    {
        .code = "UA",
        .country = "Ukraine",
        .male_first = SPATE_RU_LIST(ua_male_first),
        .female_first = SPATE_RU_LIST(ua_female_first),
        .last = SPATE_RU_LIST(ua_last),
        .streets = SPATE_RU_LIST(ua_streets),
        .cities = SPATE_RU_LIST(ua_cities),
        .states = SPATE_RU_LIST(ua_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(0@#) ###-##-##",
        .cell_pattern = "(09#) ###-##-##",
        .id_name = "",
        .id_pattern = NULL,
    },
    {
        .code = "US",
        .country = "United States",
        .male_first = SPATE_RU_LIST(us_male_first),
        .female_first = SPATE_RU_LIST(us_female_first),
        .last = SPATE_RU_LIST(us_last),
        .streets = SPATE_RU_LIST(us_streets),
        .cities = SPATE_RU_LIST(us_cities),
        .states = SPATE_RU_LIST(us_states),
        .male_titles = {NULL, 0},
        .female_titles = {NULL, 0},
        .postcode_pattern = NULL,
        .postcode_min = 10000,
        .postcode_max = 99999,
        .phone_pattern = "(@##) @##-####",
        .cell_pattern = "(@##) @##-####",
        .id_name = "SSN",
        .id_pattern = "###-##-####",
    },
};

/* ---- Shared lists ------------------------------------------------------- */

static const char *const username_adjectives[] = {
    "angry", "beautiful", "big", "black", "blue", "brave", "brown", "calm", "clever", "crazy",
    "eager", "fancy", "gentle", "golden", "green", "happy", "heavy", "jolly", "lazy", "lucky",
    "mighty", "orange", "organic", "proud", "purple", "quiet", "red", "sad", "silly", "silver",
    "small", "sneaky", "ticklish", "tiny", "white", "wild", "yellow",
};

static const char *const username_animals[] = {
    "bear", "bird", "butterfly", "cat", "dog", "duck", "eagle", "elephant", "fish", "fox", "frog",
    "goose", "gorilla", "hippo", "koala", "ladybug", "leopard", "lion", "meerkat", "monkey",
    "moose", "mouse", "octopus", "otter", "owl", "panda", "parrot", "peacock", "penguin", "rabbit",
    "raccoon", "shark", "snake", "swan", "tiger", "turtle", "walrus", "wolf", "zebra",
};

static const char *const common_passwords[] = {
    "password", "123456", "12345678", "qwerty", "abc123", "monkey", "letmein", "dragon", "111111",
    "baseball", "iloveyou", "trustno1", "1234567", "sunshine", "master", "123123", "welcome",
    "shadow", "ashley", "football", "jesus", "michael", "ninja", "mustang", "password1", "654321",
    "superman", "batman", "1qaz2wsx", "qazwsx", "7777777", "121212", "000000", "qwertyuiop",
    "123321", "666666", "1q2w3e4r", "555555", "lovely", "888888", "princess", "admin", "solo",
    "starwars", "hello", "freedom", "whatever", "charlie", "donald", "aa123456", "passw0rd",
    "zaq12wsx", "access", "flower", "loveme", "jordan", "jennifer", "hunter", "buster", "soccer",
    "harley", "ranger", "thomas", "robert", "tigger", "daniel", "hockey", "killer", "george",
    "andrew", "pepper", "joshua", "maggie", "matrix", "cheese", "summer", "corvette", "taylor",
    "austin", "merlin", "ginger", "hammer", "silver", "yankees", "dallas", "orange", "banana",
    "chelsea", "diamond", "computer", "internet", "cookie", "biteme", "phoenix", "mickey", "bailey",
    "knight", "iceman", "tiger", "purple", "andrea", "dakota", "aaaaaa", "player", "morgan",
    "boomer", "cowboys", "edward", "charles", "booboo", "coffee", "bulldog", "ncc1701", "rabbit",
    "peanut", "john", "johnny", "gandalf", "spanky", "winter", "brandy", "compaq", "carlos",
    "tennis", "james", "mike", "brandon", "fender", "anthony", "ferrari", "chicken", "maverick",
    "chicago", "joseph", "diablo", "willie", "welcome1", "chris", "panther", "yamaha", "justin",
    "driver", "marine", "angels", "fishing", "david", "maddog", "wilson", "dennis", "captain",
    "bigdog", "chester", "jackson", "monster", "lakers", "scooter", "falcon", "camaro", "eagles",
    "jasper", "slayer", "london", "rainbow", "spider", "golfer", "blue", "smokey", "nascar",
    "forever", "bandit", "cherry", "sparky", "thunder", "snoopy", "william", "jessica", "qwert",
    "asdfgh", "asdf", "zxcvbn", "1234", "12345", "123456789", "1234567890", "987654321", "trustme",
    "secret", "test", "test123", "guest", "login", "pass", "abcdef", "abcd1234", "football1",
    "baseball1", "iloveyou1", "sunshine1", "princess1", "letmein1", "password123", "qwerty123",
    "love", "lovers", "angel", "angel1", "babygirl", "butterfly", "chocolate", "dolphin",
    "elephant", "friends", "guitar", "heaven", "jasmine", "jordan23", "liverpool", "arsenal",
    "mercedes", "nicole", "pokemon", "samsung", "scorpion", "snowball", "spiderman", "steelers",
    "tinkerbell", "turtle", "vanessa", "victoria", "warrior", "wizard", "yellow", "zxcvbnm",
    "159753", "147258", "112233", "1111", "0000", "131313", "232323",
};

static const char *const female_titles[] = {
    "Miss", "Mrs", "Ms",
};

const spate_ru_list_t spate_ru_username_adjectives = SPATE_RU_LIST(username_adjectives);
const spate_ru_list_t spate_ru_username_animals = SPATE_RU_LIST(username_animals);
const spate_ru_list_t spate_ru_passwords = SPATE_RU_LIST(common_passwords);
const spate_ru_list_t spate_ru_female_titles = SPATE_RU_LIST(female_titles);

/* Offsets from UTC, written as randomuser.me writes them ("+5:45", "0:00"). */
const spate_ru_tz_t spate_ru_timezones[] = {
    {"-12:00", "Baker Island, Howland Island"},
    {"-11:00", "American Samoa, Midway Atoll, Niue"},
    {"-10:00", "Hawaii, Tahiti, Cook Islands"},
    {"-9:00", "Alaska, Gambier Islands"},
    {"-8:00", "Los Angeles, Vancouver, Tijuana"},
    {"-7:00", "Denver, Phoenix, Edmonton"},
    {"-6:00", "Chicago, Mexico City, Winnipeg, Guatemala City"},
    {"-5:00", "New York, Toronto, Bogotá, Lima"},
    {"-4:00", "Halifax, Caracas, La Paz, Santiago"},
    {"-3:30", "Newfoundland, St. John's"},
    {"-3:00", "Buenos Aires, São Paulo, Montevideo"},
    {"-1:00", "Azores, Cape Verde"},
    {"0:00", "London, Lisbon, Dublin, Accra"},
    {"+1:00", "Berlin, Paris, Madrid, Lagos"},
    {"+2:00", "Athens, Kyiv, Cairo, Johannesburg"},
    {"+3:00", "Moscow, Istanbul, Nairobi, Riyadh"},
    {"+3:30", "Tehran, Isfahan, Shiraz"},
    {"+4:00", "Dubai, Baku, Tbilisi, Muscat"},
    {"+4:30", "Kabul, Kandahar"},
    {"+5:00", "Karachi, Tashkent, Yekaterinburg, Maldives"},
    {"+5:30", "Mumbai, New Delhi, Kolkata, Colombo"},
    {"+5:45", "Kathmandu, Pokhara"},
    {"+6:00", "Dhaka, Bishkek, Omsk, Thimphu"},
    {"+7:00", "Bangkok, Hanoi, Jakarta, Novosibirsk"},
    {"+8:00", "Beijing, Singapore, Perth, Manila"},
    {"+9:00", "Tokyo, Seoul, Yakutsk, Palau"},
    {"+9:30", "Adelaide, Darwin, Broken Hill"},
    {"+10:00", "Sydney, Melbourne, Brisbane, Guam"},
    {"+11:00", "Solomon Islands, New Caledonia, Magadan"},
    {"+12:00", "Auckland, Fiji, Kamchatka"},
    {"+14:00", "Kiritimati, Line Islands"},
};

const size_t spate_ru_ntimezones = sizeof(spate_ru_timezones) / sizeof(spate_ru_timezones[0]);
