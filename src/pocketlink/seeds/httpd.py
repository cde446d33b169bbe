"""The seeds' target: Apache httpd started by UserData, as on an EC2 instance."""

from __future__ import annotations

APACHE_MODULES = "/usr/lib/apache2/modules"
HTTPD_CONF = r"""ServerRoot /etc/apache2
ServerName $name
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule mime_module {modules}/mod_mime.so
{remote_ip}User www-data
Group www-data
Listen 80
PidFile {folder}/httpd.pid
ErrorLog {folder}/error.log
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{{Referer}}i\" \"%{{User-Agent}}i\"" combined
CustomLog {folder}/access.log combined
TypesConfig /etc/mime.types
DocumentRoot {folder}/www
DirectoryIndex index.html
<Directory />
    AllowOverride None
</Directory>
<Directory {folder}/www>
    Require all granted
</Directory>
"""


def httpd_user_data(folder: str, proxy_protocol: bool = False) -> str:
    """UserData that starts Apache httpd as the seed's target does: a page naming the
    instance (its private DNS name, from the VPC resolver), and an access log in the
    seed's format. All instances share one filesystem here, so each gets ``folder``, which
    httpd's user (www-data) must be able to reach.

    With ``proxy_protocol``, mod_remoteip reads the PROXY v2 header the NLB sends and logs
    the consumer's own address, as the seed's last section shows."""
    remote_ip = (f"LoadModule remoteip_module {APACHE_MODULES}/mod_remoteip.so\n"
                 "RemoteIPProxyProtocol On\n") if proxy_protocol else ""
    conf = HTTPD_CONF.format(modules=APACHE_MODULES, folder=folder, remote_ip=remote_ip)
    return "\n".join([
        "#!/bin/sh",
        "set -e",
        f"mkdir -p {folder}/www && chmod 755 {folder} {folder}/www",
        "address=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)",
        "name=$(dig +short -x \"$address\" | sed 's/[.]$//')",
        f"echo \"<h1>Hello World from $name</h1>\" > {folder}/www/index.html",
        f"cat > {folder}/httpd.conf <<PL_CONF",
        conf.replace("\\", "\\\\").replace("`", "\\`").rstrip("\n"),
        "PL_CONF",
        f"exec /usr/sbin/apache2 -f {folder}/httpd.conf -k start",
        "",
    ])
