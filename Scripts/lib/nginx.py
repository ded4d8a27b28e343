"""nginx on a loopback port for the benchmarks (Debian's nginx-light, installed when missing)."""
import os
import shutil
import socket
import subprocess
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def ensure_nginx():
    if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"):
        return "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else shutil.which("nginx")
    subprocess.run(["bash", "-c", f". '{ROOT}/Scripts/lib/setup.sh' && need_debian nginx-light"], check=True)
    return "/usr/sbin/nginx"


def start_nginx(nginx, work, www, port, gzip, gzip_static=False):
    """nginx serving WWW on PORT; GZIP: compress responses as they are served (level 1);
    GZIP_STATIC: serve `PAGE.gz` beside a page as it is, to clients that take gzip."""
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon on;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    types {{ text/html html; }}
    keepalive_requests 100000;
    gzip {"on" if gzip else "off"};
    gzip_comp_level 1;
    gzip_static {"on" if gzip_static else "off"};
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
""")
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    subprocess.run([nginx, "-p", work, "-c", conf], check=True)
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return conf
        except OSError:
            time.sleep(0.1)
    raise SystemExit("nginx did not start; see " + os.path.join(work, "error.log"))


def stop_nginx(nginx, work, conf):
    subprocess.run([nginx, "-p", work, "-c", conf, "-s", "stop"], stderr=subprocess.DEVNULL)
