"""The Scrapy + trafilatura peer for Scripts/bench-pipeline: crawls a URL list, extracts each
page with trafilatura, and stores title and text in SQLite (one transaction per 100 rows).

    scrapy runspider scrapy_trafilatura.py -a urls=URLS -a db=DB -s CONCURRENT_REQUESTS=16
"""
import json
import sqlite3

import scrapy
import trafilatura


class NewsSpider(scrapy.Spider):
    name = "news"
    custom_settings = {"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False,
                       "TELNETCONSOLE_ENABLED": False}

    def __init__(self, urls, db, **kwargs):
        super().__init__(**kwargs)
        self.urls = [line.strip() for line in open(urls) if line.strip()]
        self.db = sqlite3.connect(db)
        self.db.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, text TEXT)")
        self.pending = 0

    async def start(self):  # Scrapy 2.13 and later
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def start_requests(self):  # earlier Scrapy
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        extracted = trafilatura.extract(response.text, url=response.url, output_format="json", with_metadata=True)
        record = json.loads(extracted) if extracted else {}
        self.db.execute("INSERT OR REPLACE INTO articles VALUES (?, ?, ?)",
                        (response.url, record.get("title"), record.get("text")))
        self.pending += 1
        if self.pending >= 100:
            self.db.commit()
            self.pending = 0

    def closed(self, reason):
        self.db.commit()
        self.db.close()
