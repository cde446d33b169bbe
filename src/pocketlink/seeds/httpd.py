"""The seeds' target: Apache httpd started by UserData, as on an EC2 instance.

Its files live inside the instance, where Debian puts them: the host's /etc is read-only
in the sandbox, so the configuration is kept beside the pages. The host reads the log
through ``pocketlink exec`` (or ``Instances.path``).
"""

from __future__ import annotations

APACHE_MODULES = "/usr/lib/apache2/modules"
CONF = "/var/www/httpd.conf"
DOCUMENT_ROOT = "/var/www/html"
LOGS = "/var/log/apache2"
ACCESS_LOG = f"{LOGS}/access.log"
RUN = "/run/apache2"
PID_FILE = f"{RUN}/httpd.pid"
HTTPD_CONF = r"""ServerRoot /etc/apache2
ServerName $name
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule mime_module {modules}/mod_mime.so
{remote_ip}User www-data
Group www-data
Listen 80
DefaultRuntimeDir {run}
PidFile {pid_file}
ErrorLog {logs}/error.log
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{{Referer}}i\" \"%{{User-Agent}}i\"" combined
CustomLog {access_log} combined
TypesConfig /etc/mime.types
DocumentRoot {root}
DirectoryIndex index.html
<Directory />
    AllowOverride None
</Directory>
<Directory {root}>
    Require all granted
</Directory>
"""


def httpd_user_data(proxy_protocol: bool = False) -> str:
    """UserData that starts Apache httpd as the seed's target does: a page naming the
    instance (its private DNS name, from the VPC resolver), and an access log in the
    seed's format (``ACCESS_LOG``, inside the instance).

    With ``proxy_protocol``, mod_remoteip reads the PROXY v2 header the NLB sends and logs
    the consumer's own address, as the seed's last section shows."""
    remote_ip = (f"LoadModule remoteip_module {APACHE_MODULES}/mod_remoteip.so\n"
                 "RemoteIPProxyProtocol On\n") if proxy_protocol else ""
    conf = HTTPD_CONF.format(modules=APACHE_MODULES, remote_ip=remote_ip, run=RUN,
                             pid_file=PID_FILE, logs=LOGS, access_log=ACCESS_LOG,
                             root=DOCUMENT_ROOT)
    return "\n".join([
        "#!/bin/sh",
        "set -e",
        f"mkdir -p {DOCUMENT_ROOT} {RUN}",
        "address=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)",
        "name=$(dig +short -x \"$address\" | sed 's/[.]$//')",
        f"echo \"<h1>Hello World from $name</h1>\" > {DOCUMENT_ROOT}/index.html",
        f"cat > {CONF} <<PL_CONF",
        conf.replace("\\", "\\\\").replace("`", "\\`").rstrip("\n"),
        "PL_CONF",
        f"exec /usr/sbin/apache2 -f {CONF} -k start",
        "",
    ])
