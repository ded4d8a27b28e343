/// The cue words and known names that entity and quote extraction rely on, for Vietnamese and
/// English with a few words of other languages. All entries are lower case and split into
/// tokens the way ``TokenizedText`` splits them.
///
/// There is no downloaded model: these lists, capitalization and position are the whole method.
enum Lexicon {
    /// A phrase as lower-case tokens.
    typealias Phrase = [String]

    private static func phrases(_ text: String) -> [Phrase] {
        text.split(separator: "\n").flatMap { $0.split(separator: ",") }
            .map { $0.split(separator: " ").map(String.init) }
            .filter { !$0.isEmpty }
    }

    /// Titles and forms of address that come before a person's name: `Người phát ngôn`,
    /// `ông`, `President`.
    static let personTitles: [Phrase] = phrases(
        """
        người phát ngôn,phát ngôn viên,ông,bà,anh,chị,cụ,tổng thống,phó tổng thống,thủ tướng,phó thủ tướng,
        chủ tịch,phó chủ tịch,bộ trưởng,thứ trưởng,ngoại trưởng,tổng bí thư,chủ tịch nước,đại sứ,
        tướng,thượng tướng,trung tướng,thiếu tướng,đại tướng,đại tá,giáo sư,tiến sĩ,bác sĩ,nhà báo,
        tổng thư ký,phó tổng thư ký,giám đốc,tổng giám đốc,thị trưởng,thống đốc,nghị sĩ,thượng nghị sĩ,
        hạ nghị sĩ,nữ hoàng,vua,hoàng tử,công chúa,giáo hoàng,tư lệnh,người đứng đầu,đô đốc,
        mr,mrs,ms,dr,prof,sir,dame,president,vice president,prime minister,minister,foreign minister,
        chancellor,secretary,secretary general,secretary-general,spokesperson,spokesman,spokeswoman,
        ambassador,general,gen,admiral,colonel,senator,sen,representative,rep,governor,mayor,
        king,queen,prince,princess,pope,chairman,chairwoman,chief executive,ceo,director,judge,
        professor,pan,pani,premier,prezydent,minister,господин,президент,премьер-министр,министр
        """)

    /// Words that start an organization's name in Vietnamese (`Bộ Ngoại giao`, `Hội đồng Bảo an`);
    /// they must be capitalized and followed by a capitalized word.
    static let leadingOrganizationCues: [Phrase] = phrases(
        """
        bộ,hội đồng,hội,ủy ban,uỷ ban,tổ chức,liên minh,liên hiệp,liên đoàn,quốc hội,chính phủ,
        ngân hàng,công ty,tập đoàn,tổng công ty,trường,đại học,học viện,viện,sở,cục,tổng cục,ban,
        đảng,quân đội,hải quân,không quân,lục quân,tòa án,toà án,viện kiểm sát,hãng,báo,đài,
        thông tấn xã,hiệp hội,câu lạc bộ,mặt trận,văn phòng,trung tâm,quỹ,phái bộ,phái đoàn,
        ministry,council,department,university,bank,agency,committee,commission,
        federation,association,institute,court,party,union,office
        """)

    /// Words that make a capitalized English run an organization wherever they stand in it
    /// (`Security Council`, `Ministry of Defence`, `Acme Inc`).
    static let organizationWords = WordSet(phrases(
        """
        ministry,council,department,university,bank,agency,committee,commission,federation,
        association,institute,court,party,union,office,organization,organisation,corporation,corp,
        inc,ltd,llc,plc,group,company,co,parliament,congress,senate,assembly,army,navy,police,
        foundation,fund,alliance,league,club,school,college,academy,authority,bureau,service,
        network,press,news,times,post,agence,government,administration,hospital,clinic,museum,church,journal,consortium,ministerstwo,министерство
        """).map { $0.joined(separator: " ") })

    /// Words before a name that make it a place: `tại Matxcơva`, `in Washington`.
    static let placePrepositions = WordSet([
        "tại", "ở", "đến", "tới", "sang", "từ", "thủ", "miền", "tỉnh", "thành", "huyện", "xã",
        "in", "near", "across", "throughout", "w", "we", "в", "во", "στην", "στο",
    ])

    /// Speech verbs that attribute a quotation, as phrases.
    static let speechVerbs: [Phrase] = phrases(
        """
        nói,cho biết,nhấn mạnh,khẳng định,tuyên bố,phát biểu,cho rằng,bày tỏ,nêu rõ,chia sẻ,
        nhận định,lưu ý,giải thích,viết,kết luận,thông báo,tiết lộ,trả lời,nhận xét,cảnh báo,
        said,says,say,told,tells,added,adds,stated,states,noted,notes,explained,wrote,writes,
        asked,warned,insisted,argued,declared,announced,replied,continued,concluded,according to,
        powiedział,powiedziała,сказал,сказала,заявил,заявила,είπε,δήλωσε,a déclaré,sagte,dijo
        """)

    /// Words that introduce a speaker before the quotation: `Theo X, "…"`.
    static let accordingTo: [Phrase] = phrases("theo,according to,cũng theo")

    /// Compass words that may stand before a known place (`miền Đông Ukraine`): the place is
    /// the entity.
    static let directions = WordSet([
        "đông", "tây", "nam", "bắc", "east", "west", "north", "south", "eastern", "western",
        "northern", "southern", "central",
    ])

    /// Pronouns that refer back to the last person mentioned.
    static let pronouns: [String] = [
        "he", "she", "ông", "bà", "anh", "chị", "ông ấy", "bà ấy", "anh ấy", "chị ấy", "ông ta",
        "bà ta", "on", "ona", "он", "она",
    ]

    /// Places known by name (countries, capitals, regions) in Vietnamese and English.
    static let places: [Phrase] = phrases(
        """
        việt nam,nga,mỹ,hoa kỳ,trung quốc,nhật bản,hàn quốc,triều tiên,ukraine,pháp,đức,anh,
        ý,tây ban nha,bồ đào nha,hà lan,bỉ,thụy sĩ,thụy điển,na uy,phần lan,đan mạch,ba lan,
        séc,hungary,romania,bulgaria,hy lạp,thổ nhĩ kỳ,israel,iran,iraq,syria,ả rập xê út,
        ai cập,ấn độ,pakistan,afghanistan,indonesia,malaysia,singapore,thái lan,lào,campuchia,
        myanmar,philippines,australia,úc,canada,mexico,brazil,argentina,cuba,nam phi,belarus,
        gruzia,kazakhstan,nhật,matxcơva,moskva,kiev,kyiv,washington,bắc kinh,tokyo,seoul,bình nhưỡng,
        paris,berlin,london,brussels,geneva,hà nội,thành phố hồ chí minh,đà nẵng,huế,hải phòng,
        thái nguyên,nghệ an,quảng ngãi,bắc ninh,châu âu,châu á,châu phi,châu mỹ,trung đông,
        biển đông,baltic,crimea,donbass,gaza,đài loan,hồng kông,
        russia,united states,china,japan,south korea,north korea,france,germany,britain,
        united kingdom,italy,spain,poland,greece,turkey,india,vietnam,europe,asia,africa,
        moscow,beijing,new york,uk,us,usa,uae,los angeles,warsaw,athens,rome,madrid,taiwan,hong kong,
        россия,москва,украина,polska,warszawa,ελλάδα,αθήνα
        """)

    /// Places and organizations in Chinese, split into characters: CJK text has no capitals, so
    /// these names are the only entities found in it.
    static let chinesePlaces: [Phrase] = characters(
        "俄罗斯 美国 中国 乌克兰 莫斯科 布鲁塞尔 日本 韩国 朝鲜 越南 英国 法国 德国 意大利 波兰 希腊 印度 欧洲 亚洲 非洲 北京 上海 华盛顿 东京 首尔 巴黎 伦敦 柏林 基辅 台湾 香港 河内")
    static let chineseOrganizations: [Phrase] = characters("北约 欧盟 联合国 外交部 国防部 白宫 克里姆林宫 五角大楼 新华社")

    private static func characters(_ names: String) -> [Phrase] {
        names.split(separator: " ").map { $0.unicodeScalars.map { String($0) } }
    }

    /// Organizations known by name.
    static let organizations: [Phrase] = phrases(
        """
        liên hợp quốc,liên hiệp quốc,liên minh châu âu,điện kremlin,nhà trắng,lầu năm góc,
        united nations,european union,white house,kremlin,pentagon
        """)

    /// Common Vietnamese family names: a capitalized run of 2–4 syllables starting with one of
    /// them is a person (`Nguyễn Ngọc Cảnh`).
    static let vietnameseSurnames = WordSet([
        "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ",
        "hồ", "ngô", "dương", "lý", "đinh", "trịnh", "đoàn", "lâm", "mai", "tô", "hà", "lương",
        "trương", "cao", "chu", "tạ", "lưu", "vương",
    ])

    /// Capitalized words that are never entities by themselves: weekdays, months, and
    /// Vietnamese words capitalized by convention.
    static let nonEntities = WordSet([
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
        "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december", "i", "the", "a", "an", "thứ", "chủ nhật", "tin", "ảnh", "video",
        "infographic", "nguồn", "tp", "ttxvn", "i'm", "i’m", "i've", "i’ve", "i'll", "i’ll", "i'd",
        "i’d", "ok",
    ])
}
